/* Peer name matching (RFC 6125 / RFC 9525 DNS names with wildcards, IP
 * addresses, SPIFFE IDs) and name-constraint matching (RFC 5280 §4.2.1.10).
 * Names from certificates are (bytes, length), never NUL-terminated. */
#ifndef CERTA_X509_NAMES_H
#define CERTA_X509_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A host name in preferred LDH syntax (labels of letters, digits and
 * hyphens, 1-63 bytes, not starting or ending with a hyphen, 253 bytes at
 * most, no trailing dot). With allow_wildcard, the left-most label may be
 * exactly "*" when at least two labels follow it. */
bool dns_name_valid(const uint8_t *s, size_t n, bool allow_wildcard);

/* Does the certificate's DNS name (pattern, possibly "*.example.com")
 * match the reference host name? Case-insensitive; a wildcard stands for
 * exactly one whole left-most label. Both must be valid. */
bool dns_name_match(const uint8_t *pattern, size_t pn, const char *host);
/* The same for a pattern and host already known valid (checked once, e.g.
 * a server's names at load time and the SNI once per handshake). */
bool dns_name_match_valid(const uint8_t *pattern, size_t pn, const uint8_t *host, size_t hn);

/* An IPv4 dotted quad (no leading zeros) or an IPv6 literal. Returns 4 or
 * 16 (bytes written to out), 0 if s is not an address. */
int ip_parse(const char *s, uint8_t out[16]);

/* SPIFFE ID syntax: spiffe://trust-domain/path, trust domain of [a-z0-9.-_],
 * path segments of [A-Za-z0-9.-_] (none empty, "." or ".."), no query,
 * fragment, port or userinfo. */
bool spiffe_id_valid(const uint8_t *s, size_t n);

/* ---- name constraints ---- */

/* A dNSName constraint: empty (all names) or LDH labels, no wildcard, no
 * leading period. */
bool nc_dns_constraint_valid(const uint8_t *c, size_t cn);
/* Is the DNS name (possibly a wildcard pattern) inside the subtree c? For a
 * pattern, every name it can match must be inside. */
bool nc_dns_permits(const uint8_t *name, size_t n, const uint8_t *c, size_t cn);
/* Could the DNS name (possibly a wildcard pattern) stand for any name inside
 * the excluded subtree c? */
bool nc_dns_excludes(const uint8_t *name, size_t n, const uint8_t *c, size_t cn);

/* An iPAddress constraint: 8 or 32 bytes, address then a contiguous mask. */
bool nc_ip_constraint_valid(const uint8_t *c, size_t cn);
/* Is the address (4 or 16 bytes) inside the address range c? */
bool nc_ip_match(const uint8_t *ip, size_t n, const uint8_t *c, size_t cn);

/* rfc822Name: a mailbox "local@domain". Constraint: a mailbox (exact), a
 * host (every mailbox at it) or ".domain" (mailboxes at its subdomains). */
bool nc_email_valid(const uint8_t *s, size_t n);
bool nc_email_match(const uint8_t *email, size_t n, const uint8_t *c, size_t cn);

/* URI: the host part against a host constraint (exact) or ".domain"
 * (subdomains). A URI without a host never matches. */
bool nc_uri_match(const uint8_t *uri, size_t n, const uint8_t *c, size_t cn);

#endif
