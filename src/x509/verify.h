/* Path validation (verify.c) for the engine: certa_verify_chain with the
 * config's prepared CRLs (crl_index.h) instead of DER to parse each time. */
#ifndef CERTA_X509_VERIFY_H
#define CERTA_X509_VERIFY_H

#include "certa.h"
#include "x509/crl_index.h"

/* certa_verify_chain, where indexes (params->crl_count of them, each for
 * params->crls[k]; NULL: parse the DER) supply the CRLs ready to use. */
int x509_verify_chain_indexed(const certa_trust *trust, const uint8_t *const *chain,
                              const size_t *lens, size_t count, const certa_verify_params *params,
                              crl_index *const *indexes, certa_verify_result *result);

#endif
