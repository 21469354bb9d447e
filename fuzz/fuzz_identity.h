/* Fixed ECDSA P-256 and RSA-2048 identities for fuzz targets (test data, not
 * secrets). */
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

/* An RSA-2048 identity for the TLS 1.2 ECDHE_RSA variants (valid 2026-2126). */
static const char fuzz_rsa_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIC3TCCAcWgAwIBAgIBATANBgkqhkiG9w0BAQsFADAXMRUwEwYDVQQDDAxmdXp6\n"
    "LmV4YW1wbGUwIBcNMjYwMTAxMDAwMDAwWhgPMjEyNjAxMDEwMDAwMDBaMBcxFTAT\n"
    "BgNVBAMMDGZ1enouZXhhbXBsZTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoC\n"
    "ggEBALDhM2oCabudVVx0tGvI/EKWuqr7wdrEgCEs5yPA9bCaArV6rtcEcGnfSFow\n"
    "9W7F1kvw6il+2ZZxyoVRrz5K8mGUpf8UzS0g6du22MvFyqkeqh36gGUYrI9h5+Tk\n"
    "bzscqT9Xkgfy5KzDokM7VBiWotDcMD6eHJJpLvSEIFib+tgiRWvGCf/zW8Wfu4Cu\n"
    "eBK0GogdDLN7j1sLu9+EQPkGyP85woELWpEH+FhRwWP1v7Z84p+iBSWL0aAlwh35\n"
    "K0h9lY3rNiBY6VVYmG2p62ij8WszA4XrNveErwjW+7tg/zWbvnkLSg5fJUQUShek\n"
    "CvPwBdnVZfQ2p9RJWqECG5/z8W0CAwEAAaMyMDAwDwYDVR0TAQH/BAUwAwEB/zAd\n"
    "BgNVHQ4EFgQUrlI02101mtk7zBReZE9Fb1L6zVkwDQYJKoZIhvcNAQELBQADggEB\n"
    "AKi15wiBAj3iUy8Q0cT9MMwd6jsYj0L2410kK2NgqgYh+ZJfkRavE7PIULta0jX6\n"
    "OGS99LorbjP8eqE6tCeyVBMM2un7kj2EkOtsfTeAA0epLq9T9AORtTRZhjWjkczu\n"
    "8Rq/hB5cuXV/kvYmCpbB0WTyT4EVeYTCI4wjqCya6t0+ZDH4vwgXmfdT7uvTBVxA\n"
    "IfAFnCfJB40YeulPTJfhoFhEEctZ+XWPUmGK9ogel6/Nzy5VdrsCk9NshMRA90Vw\n"
    "ktj2w+6YYdeYYmdXQ8s9B/Np2+0hExzCJUcHECAa0qlVbv4IoOLb7VYq5vM5O25B\n"
    "EXUJJwYywETj3ZElg3SvLsw=\n"
    "-----END CERTIFICATE-----\n";

static const char fuzz_rsa_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCw4TNqAmm7nVVc\n"
    "dLRryPxClrqq+8HaxIAhLOcjwPWwmgK1eq7XBHBp30haMPVuxdZL8OopftmWccqF\n"
    "Ua8+SvJhlKX/FM0tIOnbttjLxcqpHqod+oBlGKyPYefk5G87HKk/V5IH8uSsw6JD\n"
    "O1QYlqLQ3DA+nhySaS70hCBYm/rYIkVrxgn/81vFn7uArngStBqIHQyze49bC7vf\n"
    "hED5Bsj/OcKBC1qRB/hYUcFj9b+2fOKfogUli9GgJcId+StIfZWN6zYgWOlVWJht\n"
    "qetoo/FrMwOF6zb3hK8I1vu7YP81m755C0oOXyVEFEoXpArz8AXZ1WX0NqfUSVqh\n"
    "Ahuf8/FtAgMBAAECggEAKNs75wa7qYyEBSEn86WvLypl38zbUE8HUaJvmYCev7Yz\n"
    "XfwCmsP5u1rJ+ZtJddbY0x3I2ODmHawXHYhqtDbXmdaeKTeC1SO/IPMxTJBZaYsd\n"
    "vGL6eV+jrFLvH53sW3kZVvpBTvi5/XYK6wCvQia5YQkbU7tt2hvVrsE+P3l4Dagp\n"
    "+ltrOEGdmri+jK87qv9E2nJKmoorxIUk8RA+6gbpaT7oX6huPkjjpDzenY2fN2C1\n"
    "kqldrZ8+vDez/n6Utj8Rr0JHxoJ+6V5eQb37dhBDmp1qIeR9C8dKzjeUUdxnfLWv\n"
    "LMrstg2wbM8Tu4U4OxSlUrhsFv89qV4h+BdjTv8bOQKBgQDt30tqTDY2JdtTo+op\n"
    "D2om+KBJt9OkHP2daegC26vDT/7ndYHfsspcjKcxExGwTWsnXxn6fenw14I5f2MF\n"
    "H+KKPoAclefxLY/IfchRCfTZlawnpI0G+sBOyNjsnGzz8VEIQfYMJJsKwIyI1xg0\n"
    "q4BxtqxyEbLgAxlslzQwEE2lUwKBgQC+W/z7TEvpptSEc6a1Ui4eSF+wznTXnSXN\n"
    "uO4gYV/4QSIjWOiW7a2g/DFDVF7bAMNQyl/sO2LChaEyRKTGDkuy021H3SHEguE0\n"
    "UcIyGGf4f/kqSramfui5lSZvBCdlp5LsjzAjjJRFW6mRYjeOcIi8S4Odv+RmOtnl\n"
    "v4IIikx2PwKBgQCC8dIFIRESu8JCB9DGa6rm6yTpj91c0Wy3c+55bE3gha/v4Jru\n"
    "9vA5BGChPjsVj3i2Qr79SsU2hJw2ZK6wyn2d1owVsFvvQ0KMftl/6vgzsxYC+K19\n"
    "sxmcBSqNDgtYOnZ+EjmNM7V5tMdoKOg1Tle1wXaqkJ2kfXBIe/AJqV/k6wKBgQCK\n"
    "crr3RpF7uXOddcPM4p1aNwcpv66pVsk064h9knTLSQv8K2DWzLzYdjOaJZXrsI1d\n"
    "iCLl3HdCxQ/tUJGK3sDdqfo0Jze1Bf+nHsOfzbJowSLGSJq5U1oOB9VxLtM8kvlA\n"
    "BhBb+pWoMDeO3qFLfrtkP4PVSshiNfFesL9xWKyt3wKBgCSStliET5i01JPV1RkA\n"
    "Gt6eS5OI3tMdWHRYsE3ol8FMXjMTbmuhPiT6sznVGQgtrxVo4bsL+IO36XsSVe+a\n"
    "Vzj4yp+XeJ5enfX+LnX4uB+lb1p9SCwKFADo4Gk1fHZnKLOXXMlCq7Sf2pqw//AA\n"
    "CA4tJR1/fhUswOV0wXD7o+GB\n"
    "-----END PRIVATE KEY-----\n";

/* A P-256 identity for *.sni.fuzz.example and other.fuzz.example (not the
 * seeds' fuzz.example, so their flights still get the default): server
 * targets add it to exercise certificate selection by SNI. */
static const char fuzz_sni_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBwTCCAWigAwIBAgIUQmXXd7WKLG4Z7LQAA+JuewzXHnEwCgYIKoZIzj0EAwIw\n"
    "GzEZMBcGA1UEAwwQc25pLmZ1enouZXhhbXBsZTAgFw0yNjEyMDMwODUyNTJaGA8y\n"
    "MTI2MTEwOTA4NTI1MlowGzEZMBcGA1UEAwwQc25pLmZ1enouZXhhbXBsZTBZMBMG\n"
    "ByqGSM49AgEGCCqGSM49AwEHA0IABDNEK9I/CGtDvCSbf+22wK+STE9KZLS7Mogv\n"
    "u9aSlJR8Tts5oyAeOoStAzgJlYeIdB0As+zrFyMt6IjAcpeFfyOjgYcwgYQwHQYD\n"
    "VR0OBBYEFMKuefqAgUPF3rQxlhmnCduXyItBMB8GA1UdIwQYMBaAFMKuefqAgUPF\n"
    "3rQxlhmnCduXyItBMA8GA1UdEwEB/wQFMAMBAf8wMQYDVR0RBCowKIISKi5zbmku\n"
    "ZnV6ei5leGFtcGxlghJvdGhlci5mdXp6LmV4YW1wbGUwCgYIKoZIzj0EAwIDRwAw\n"
    "RAIgLuf9eXpMW3UP4RSPHTsIgF3TlvNL3FHEqqifQnw6Em8CIEmI5MmnawPjgaZ9\n"
    "oS1IOXBBaDDGlkelZUivTUelwcEh\n"
    "-----END CERTIFICATE-----\n";

static const char fuzz_sni_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjHgOyQDLvfrm0XQ6\n"
    "LuJmiFjINIcemMhpkoMxMMnSWCmhRANCAAQzRCvSPwhrQ7wkm3/ttsCvkkxPSmS0\n"
    "uzKIL7vWkpSUfE7bOaMgHjqErQM4CZWHiHQdALPs6xcjLeiIwHKXhX8j\n"
    "-----END PRIVATE KEY-----\n";

#endif
