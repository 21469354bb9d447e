/* A fixed ECDSA P-256 identity for fuzz targets (test data, not a secret). */
#ifndef CERTA_FUZZ_IDENTITY_H
#define CERTA_FUZZ_IDENTITY_H

static const char fuzz_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBhDCCASugAwIBAgIUdJn1rBKIMFa9ZFqtDOmfIFEQf8wwCgYIKoZIzj0EAwIw\n"
    "FzEVMBMGA1UEAwwMZnV6ei5leGFtcGxlMCAXDTI2MTEyMzE2NDc1NFoYDzIxMjYx\n"
    "MDMwMTY0NzU0WjAXMRUwEwYDVQQDDAxmdXp6LmV4YW1wbGUwWTATBgcqhkjOPQIB\n"
    "BggqhkjOPQMBBwNCAAQIncjGxPBmZMZdzRMBjQsra78GPjiwdNLPXk6DbbV5iBdh\n"
    "KEw2FZt+4VmIG1kIxBJfxWFe/u5cV3kghpeLyh4/o1MwUTAdBgNVHQ4EFgQUGe/0\n"
    "wVFrCNKimQYs/D0fYJGF+2IwHwYDVR0jBBgwFoAUGe/0wVFrCNKimQYs/D0fYJGF\n"
    "+2IwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiB9ZWC5/s624Bui\n"
    "SOGGXoo4krXSVE8flALH2vj6gSg8RgIgUizt/PQI7AKbFqDS9ujBEdjkxWzb+OCF\n"
    "lHZedzh7Mvo=\n"
    "-----END CERTIFICATE-----\n";

static const char fuzz_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgNkYNLDk9XZyRNI/n\n"
    "+/l3HS5I8/vijTXN2lX3GCTwF3ihRANCAAQIncjGxPBmZMZdzRMBjQsra78GPjiw\n"
    "dNLPXk6DbbV5iBdhKEw2FZt+4VmIG1kIxBJfxWFe/u5cV3kghpeLyh4/\n"
    "-----END PRIVATE KEY-----\n";

#endif
