/* PROXY protocol v2 (HAProxy's proxy-protocol.txt, section 2.2) from certa
 * proxy to its backend (--proxy-protocol): the header that tells the
 * backend who the client is, sent before the first plaintext byte.
 *
 *   addresses   the TLS client's address and port, and the address it
 *               connected to (TCP over IPv4 or IPv6)
 *   PP2_TYPE_AUTHORITY (0x02)   the SNI the client sent
 *   PP2_TYPE_SSL (0x20)         client flags (SSL, CERT_CONN when it sent a
 *                               certificate), verify (0 = verified), and
 *                               sub-TLVs VERSION ("TLSv1.3"), CN (the client
 *                               certificate's subject CN), CIPHER
 *   PP2_TYPE_CERTA_IDENTITY (0xE0, from the custom range 0xE0-0xEF)
 *                               the verified client identity as certa's
 *                               logs print it: its SPIFFE ID, else
 *                               "dns:NAME", else the subject
 */
#ifndef CERTA_TOOLS_PROXY_PROTOCOL_H
#define CERTA_TOOLS_PROXY_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "certa.h"

#define PP2_TYPE_AUTHORITY 0x02
#define PP2_TYPE_SSL 0x20
#define PP2_SUBTYPE_SSL_VERSION 0x21
#define PP2_SUBTYPE_SSL_CN 0x22
#define PP2_SUBTYPE_SSL_CIPHER 0x23
#define PP2_TYPE_CERTA_IDENTITY 0xE0
#define PP2_CLIENT_SSL 0x01
#define PP2_CLIENT_CERT_CONN 0x02
#define PP2_HEADER_MAX 1536

/* The header for a connection from src to dst whose TLS side is conn
 * (handshake complete), into out (PP2_HEADER_MAX bytes): its length, or 0
 * for address families it cannot carry (the header is then LOCAL). */
size_t proxy_protocol_v2(uint8_t *out, const struct sockaddr *src, const struct sockaddr *dst,
                         const certa_conn *conn);

#endif
