/* certa proxy's ECH split mode (proxy_ech_split.c): chosen by
 * --ech-backend / --ech-public-backend on the command line. */
#ifndef CERTA_PROXY_ECH_SPLIT_H
#define CERTA_PROXY_ECH_SPLIT_H

#include <stdbool.h>
#include <stdio.h>

bool proxy_ech_split_wanted(int argc, char **argv);
int proxy_ech_split_main(int argc, char **argv);
void proxy_ech_split_usage(FILE *out);

#endif
