/* The library's version (certa.h: CERTA_VERSION and friends). */
#include "certa.h"

const char *certa_version(void) {
    return CERTA_VERSION;
}
