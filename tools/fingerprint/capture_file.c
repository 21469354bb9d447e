/* certa fingerprint: libpcap reads the file (both pcap and pcapng) and
 * says its link type; everything after that is packet_decode.c's. */
#include "fingerprint/capture_file.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct capture_file {
    pcap_t *pcap;
    capture_link link;
    uint64_t count;
};

/* libpcap's DLT_ values -> ours; false for a link type we do not read. */
static bool link_of(int dlt, capture_link *out) {
    switch (dlt) {
    case DLT_EN10MB:
        *out = CAPTURE_LINK_ETHERNET;
        return true;
    case DLT_NULL:
        *out = CAPTURE_LINK_NULL;
        return true;
    case DLT_LOOP:
        *out = CAPTURE_LINK_LOOP;
        return true;
    case DLT_RAW:
        *out = CAPTURE_LINK_RAW;
        return true;
#ifdef DLT_IPV4
    case DLT_IPV4:
        *out = CAPTURE_LINK_IPV4;
        return true;
#endif
#ifdef DLT_IPV6
    case DLT_IPV6:
        *out = CAPTURE_LINK_IPV6;
        return true;
#endif
    case DLT_LINUX_SLL:
        *out = CAPTURE_LINK_SLL;
        return true;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        *out = CAPTURE_LINK_SLL2;
        return true;
#endif
    default:
        return false;
    }
}

capture_file *capture_open(const char *path, char *why, size_t cap) {
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline(path, err);
    if (!p) {
        snprintf(why, cap, "cannot read %s: %s", path, err[0] ? err : "not a pcap or pcapng file");
        return NULL;
    }
    capture_link link;
    int dlt = pcap_datalink(p);
    if (!link_of(dlt, &link)) {
        const char *name = pcap_datalink_val_to_name(dlt);
        const char *desc = pcap_datalink_val_to_description(dlt);
        snprintf(why, cap,
                 "%s: link type %d (%s%s%s) is not one certa fingerprint reads: capture on "
                 "Ethernet, loopback or 'any' (Linux cooked), or raw IP",
                 path, dlt, name ? name : "unknown", desc ? ", " : "", desc ? desc : "");
        pcap_close(p);
        return NULL;
    }
    capture_file *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(why, cap, "out of memory");
        pcap_close(p);
        return NULL;
    }
    f->pcap = p;
    f->link = link;
    return f;
}

capture_link capture_file_link(const capture_file *f) {
    return f->link;
}

int capture_next(capture_file *f, capture_packet *p, char *why, size_t cap) {
    struct pcap_pkthdr *h;
    const u_char *data;
    int r = pcap_next_ex(f->pcap, &h, &data);
    if (r == PCAP_ERROR_BREAK) return 0;
    if (r != 1) {
        snprintf(why, cap, "after packet %llu: %s", (unsigned long long)f->count,
                 pcap_geterr(f->pcap));
        return -1;
    }
    p->data = data;
    p->caplen = h->caplen;
    p->wire_len = h->len;
    p->sec = (int64_t)h->ts.tv_sec;
    p->usec = (long)h->ts.tv_usec;
    p->number = ++f->count;
    return 1;
}

void capture_close(capture_file *f) {
    if (!f) return;
    pcap_close(f->pcap);
    free(f);
}
