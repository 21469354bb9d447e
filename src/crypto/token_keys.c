/* Private keys on PKCS#11 tokens (RFC 7512 URIs), through libcrypto's
 * ENGINE interface and the "pkcs11" engine (libp11, Debian's
 * libengine-pkcs11-openssl). The key object libcrypto hands back signs on
 * the token: the private key never enters this process. OpenSSL 3.0 marks
 * the ENGINE API deprecated, but it is present and libp11 has no provider
 * in Debian, so this file is the one place that uses it. */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ui.h>

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
#include <openssl/engine.h>

#include "crypto/internal.h"

#define URI_MAX 4096
#define PIN_MAX 256
#define ENGINES_MAX 4

static const char *const module_fallbacks[] = {
    "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so",
    "/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so",
    "/usr/lib/p11-kit-proxy.so",
    "/usr/lib/softhsm/libsofthsm2.so",
};

/* One engine per module, initialised once and kept for the life of the
 * process: keys loaded through it refer to it. The lock also serialises
 * loads, since the PIN is handed to the engine as a setting. */
static pthread_mutex_t engines_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char *module;
    ENGINE *engine;
} engines[ENGINES_MAX];

static void say(char *why, size_t cap, const char *fmt, ...) {
    if (why == NULL || cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..len) into out (NUL-terminated); -1 if malformed or too long. */
static int pct_decode(const char *s, size_t len, char *out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len) return -1;
            int h = hex_value(s[i + 1]), l = hex_value(s[i + 2]);
            if (h < 0 || l < 0) return -1;
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (c == 0 || n + 1 >= cap) return -1;
        out[n++] = c;
    }
    out[n] = 0;
    return 0;
}

typedef struct token_uri {
    char engine_uri[URI_MAX]; /* what libp11 is given: the path attributes only */
    char module[URI_MAX];
    char pin[PIN_MAX];
    bool has_pin;
    char pin_source[URI_MAX];
} token_uri;

static bool attr_is(const char *a, size_t alen, const char *name) {
    size_t n = strlen(name);
    return alen > n && strncmp(a, name, n) == 0 && a[n] == '=';
}

/* Splits the URI: path attributes (';'-separated) go to the engine as they
 * are, except the PIN and module ones, which certa handles itself (also as
 * query attributes after '?', '&'-separated, as RFC 7512 places them). */
static int uri_parse(const char *uri, token_uri *t, char *why, size_t cap) {
    memset(t, 0, sizeof *t);
    if (strncmp(uri, "pkcs11:", 7) != 0 || strlen(uri) >= URI_MAX) {
        say(why, cap, "not a PKCS#11 URI: it must start with 'pkcs11:' (RFC 7512)");
        return -1;
    }
    size_t out = (size_t)snprintf(t->engine_uri, sizeof t->engine_uri, "pkcs11:");
    const char *p = uri + 7;
    bool query = false, first_path = true;
    while (*p) {
        const char *end = p + strcspn(p, query ? "&" : ";?");
        size_t alen = (size_t)(end - p);
        const char *value = memchr(p, '=', alen);
        size_t vlen = value ? alen - (size_t)(value + 1 - p) : 0;
        if (value) value++;
        if (alen == 0) {
            /* empty attribute: nothing */
        } else if (attr_is(p, alen, "pin-value")) {
            if (pct_decode(value, vlen, t->pin, sizeof t->pin) != 0) goto bad;
            t->has_pin = true;
        } else if (attr_is(p, alen, "pin-source")) {
            if (pct_decode(value, vlen, t->pin_source, sizeof t->pin_source) != 0) goto bad;
        } else if (attr_is(p, alen, "module-path")) {
            if (pct_decode(value, vlen, t->module, sizeof t->module) != 0) goto bad;
        } else if (query) {
            /* other query attributes (module-name, ...) are not used */
        } else {
            if (out + alen + 2 >= sizeof t->engine_uri) goto bad;
            if (!first_path) t->engine_uri[out++] = ';';
            memcpy(t->engine_uri + out, p, alen);
            out += alen;
            t->engine_uri[out] = 0;
            first_path = false;
        }
        p = end;
        if (*p == '?') query = true;
        if (*p) p++;
    }
    return 0;
bad:
    say(why, cap,
        "the PKCS#11 URI has a malformed or over-long attribute: percent-encode "
        "special characters (RFC 7512)");
    return -1;
}

/* pin-source: "file:/path" or a plain path; the PIN is the first line. */
static int pin_from_source(token_uri *t, char *why, size_t cap) {
    const char *path = t->pin_source;
    if (strncmp(path, "file:", 5) == 0) path += 5;
    if (strncmp(path, "//", 2) == 0) path += 2; /* file:///run/pin */
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        say(why, cap, "cannot read the PIN file '%s' (pin-source): check the path and permissions",
            path);
        return -1;
    }
    bool ok = fgets(t->pin, sizeof t->pin, f) != NULL;
    fclose(f);
    if (!ok) {
        say(why, cap, "the PIN file '%s' (pin-source) is empty: write the PIN on its first line",
            path);
        return -1;
    }
    t->pin[strcspn(t->pin, "\r\n")] = 0;
    t->has_pin = true;
    return 0;
}

static const char *module_choose(const token_uri *t, const char *default_module) {
    if (t->module[0]) return t->module;
    if (default_module && default_module[0]) return default_module;
    const char *env = getenv("PKCS11_MODULE_PATH");
    if (env && env[0]) return env;
    for (size_t i = 0; i < sizeof module_fallbacks / sizeof module_fallbacks[0]; i++)
        if (access(module_fallbacks[i], R_OK) == 0) return module_fallbacks[i];
    return NULL;
}

/* Under engines_lock: the engine for module, made and initialised once. */
static ENGINE *engine_for(const char *module, char *why, size_t cap) {
    size_t free_slot = ENGINES_MAX;
    for (size_t i = 0; i < ENGINES_MAX; i++) {
        if (engines[i].module && strcmp(engines[i].module, module) == 0) return engines[i].engine;
        if (!engines[i].module && free_slot == ENGINES_MAX) free_slot = i;
    }
    if (free_slot == ENGINES_MAX) {
        say(why, cap, "too many PKCS#11 modules in one process (at most %d)", ENGINES_MAX);
        return NULL;
    }
    ENGINE *e = ENGINE_by_id("pkcs11");
    if (e == NULL) {
        say(why, cap,
            "the OpenSSL pkcs11 engine is not installed: install "
            "libengine-pkcs11-openssl (libp11)");
        return NULL;
    }
    /* QUIET: libp11 would print its own messages (with the URI) to stderr. */
    if (ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0) != 1 ||
        ENGINE_ctrl_cmd(e, "QUIET", 0, NULL, NULL, 0) != 1 || ENGINE_init(e) != 1) {
        ENGINE_free(e);
        say(why, cap,
            "the PKCS#11 module '%s' could not be loaded: check that it is a PKCS#11 "
            "module and that its token configuration (e.g. SOFTHSM2_CONF) is readable",
            module);
        return NULL;
    }
    ENGINE_free(e); /* the functional reference from ENGINE_init keeps it */
    char *copy = strdup(module);
    if (copy == NULL) {
        ENGINE_finish(e);
        say(why, cap, "out of memory");
        return NULL;
    }
    engines[free_slot].module = copy;
    engines[free_slot].engine = e;
    return e;
}

/* Never prompt: a PIN that is needed and not in the URI is an error. */
static int no_prompt(char *buf, int size, int rwflag, void *u) {
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Why libp11 refused, from its error queue: a sentence with the fix. */
static void load_failure(const token_uri *t, const char *module, char *why, size_t cap) {
    bool pin_bad = false, pin_locked = false;
    unsigned long e;
    while ((e = ERR_get_error()) != 0) {
        const char *r = ERR_reason_error_string(e);
        if (r == NULL) continue;
        if (strstr(r, "PIN incorrect") || strstr(r, "PIN invalid") || strstr(r, "PIN length"))
            pin_bad = true;
        else if (strstr(r, "PIN locked") || strstr(r, "PIN expired"))
            pin_locked = true;
    }
    if (pin_bad)
        say(why, cap,
            "the token refused the PIN for '%s': correct pin-value or the pin-source "
            "file (tokens lock after a few wrong PINs)",
            t->engine_uri);
    else if (pin_locked)
        say(why, cap,
            "the token's user PIN is locked or expired: reset it with the SO PIN "
            "(e.g. pkcs11-tool --init-pin --login --so-pin ...)");
    else if (!t->has_pin)
        say(why, cap,
            "no private key found at '%s' without a PIN: add pin-source=file:/path "
            "(or pin-value=) to the URI if the token needs a login, and check the "
            "token and object attributes (pkcs11-tool --module %s --login -O lists them)",
            t->engine_uri, module);
    else
        say(why, cap,
            "no private key found at '%s': check the token and object (or id) "
            "attributes; pkcs11-tool --module %s --login -O lists them",
            t->engine_uri, module);
}

/* A test signature under the TLS 1.3 scheme the key would use, verified
 * with its public half: finds tokens that cannot sign the way TLS 1.3
 * needs (RSA without PSS) and keys the token has no public half for. */
static int self_test(crypto_key *key, char *why, size_t cap) {
    static const uint16_t schemes[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0807, 0x0808};
    uint16_t scheme = 0;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0] && !scheme; i++)
        if (sig_scheme_fits_key(schemes[i], key)) scheme = schemes[i];
    char desc[64];
    key_describe(key, desc, sizeof desc);
    if (!scheme) {
        say(why, cap,
            "the token's key is %s, which cannot sign TLS 1.3 handshakes: use an "
            "ECDSA P-256/P-384/P-521 or RSA (2048 bits or more) key",
            desc);
        return -1;
    }
    static const uint8_t msg[] = "certa: PKCS#11 key test signature";
    uint8_t sig[CRYPTO_MAX_SIG];
    size_t n = sizeof sig;
    if (sig_sign(scheme, key, msg, sizeof msg, sig, &n) != 0) {
        if (scheme == 0x0804)
            say(why, cap,
                "the token cannot make RSA-PSS signatures with this %s key, and TLS "
                "1.3 needs them: use a key that may sign (CKA_SIGN) on a token that "
                "supports CKM_RSA_PKCS_PSS (or raw RSA), or an ECDSA key",
                desc);
        else
            say(why, cap,
                "the token refused to sign with this %s key: check that the object "
                "may sign (CKA_SIGN)",
                desc);
        return -1;
    }
    if (sig_verify(scheme, key, msg, sizeof msg, sig, n) != 0) {
        say(why, cap,
            "the token's %s key signed, but the signature does not verify with its "
            "public half: import the matching public key with the same id",
            desc);
        return -1;
    }
    return 0;
}

int key_from_pkcs11_uri(const char *uri, const char *default_module, crypto_key **out, char *why,
                        size_t cap) {
    *out = NULL;
    if (uri == NULL) {
        say(why, cap, "no PKCS#11 URI");
        return -1;
    }
    token_uri *t = calloc(1, sizeof *t);
    if (t == NULL) {
        say(why, cap, "out of memory");
        return -1;
    }
    int r = uri_parse(uri, t, why, cap);
    if (r == 0 && t->pin_source[0] && !t->has_pin) r = pin_from_source(t, why, cap);
    const char *module = r == 0 ? module_choose(t, default_module) : NULL;
    if (r == 0 && module == NULL) {
        say(why, cap,
            "no PKCS#11 module: name one with module-path= in the URI, "
            "PKCS11_MODULE_PATH or --pkcs11-module (p11-kit-proxy.so was not found)");
        r = -1;
    }
    if (r == 0 && access(module, R_OK) != 0) {
        say(why, cap,
            "the PKCS#11 module '%s' does not exist or cannot be read: install it, "
            "or name the right one with module-path=, PKCS11_MODULE_PATH or "
            "--pkcs11-module",
            module);
        r = -1;
    }
    EVP_PKEY *key = NULL;
    if (r == 0) {
        pthread_mutex_lock(&engines_lock);
        ERR_clear_error();
        ENGINE *e = engine_for(module, why, cap);
        UI_METHOD *ui = e ? UI_UTIL_wrap_read_pem_callback(no_prompt, 0) : NULL;
        if (e == NULL) {
            r = -1;
        } else if (ui == NULL) {
            say(why, cap, "out of memory");
            r = -1;
        } else {
            /* The PIN is a setting of the engine for this load only. */
            if (t->has_pin) ENGINE_ctrl_cmd_string(e, "PIN", t->pin, 0);
            key = ENGINE_load_private_key(e, t->engine_uri, ui, NULL);
            if (key == NULL) load_failure(t, module, why, cap);
            ENGINE_ctrl_cmd(e, "PIN", 0, NULL, NULL, 0);
            r = key ? 0 : -1;
        }
        UI_destroy_method(ui);
        pthread_mutex_unlock(&engines_lock);
    }
    crypto_zero(t, sizeof *t); /* the PIN */
    free(t);
    if (r == 0 && key_mark_on_token(key) != 0) {
        say(why, cap, "out of memory");
        r = -1;
    }
    if (r == 0) r = self_test(key, why, cap);
    if (r != 0) {
        EVP_PKEY_free(key);
        ERR_clear_error();
        return -1;
    }
    ERR_clear_error();
    *out = key;
    return 0;
}

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif
