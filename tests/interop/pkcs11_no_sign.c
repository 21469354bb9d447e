/* Test helper for pkcs11.sh: sets CKA_SIGN to false on the private key
 * labelled LABEL, so the token refuses every signature with it (pkcs11-tool
 * imports keys with sign usage whatever --usage-* says).
 *
 *   pkcs11_no_sign MODULE TOKEN_LABEL PIN KEY_LABEL
 *
 * Exit 0 when exactly one key was changed. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

static int fail(const char *what, CK_RV rv) {
    fprintf(stderr, "pkcs11_no_sign: %s failed (0x%lx)\n", what, (unsigned long)rv);
    return 1;
}

/* Token labels are blank-padded to 32 bytes. */
static int label_is(const unsigned char label[32], const char *want) {
    size_t n = strlen(want);
    if (n > 32 || memcmp(label, want, n) != 0) return 0;
    for (size_t i = n; i < 32; i++)
        if (label[i] != ' ') return 0;
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: pkcs11_no_sign MODULE TOKEN_LABEL PIN KEY_LABEL\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW);
    if (lib == NULL) return fail(dlerror(), 0);
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList");
    CK_FUNCTION_LIST_PTR f = NULL;
    CK_RV rv;
    if (get == NULL || (rv = get(&f)) != CKR_OK) return fail("C_GetFunctionList", 0);
    if ((rv = f->C_Initialize(NULL)) != CKR_OK) return fail("C_Initialize", rv);
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16;
    if ((rv = f->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK) return fail("C_GetSlotList", rv);
    CK_SLOT_ID slot = 0;
    int found = 0;
    for (CK_ULONG i = 0; i < n && !found; i++) {
        CK_TOKEN_INFO info;
        if (f->C_GetTokenInfo(slots[i], &info) == CKR_OK && label_is(info.label, argv[2])) {
            slot = slots[i];
            found = 1;
        }
    }
    if (!found) return fail("finding the token", 0);
    CK_SESSION_HANDLE s;
    rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
    if (rv != CKR_OK) return fail("C_OpenSession", rv);
    rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)argv[3], (CK_ULONG)strlen(argv[3]));
    if (rv != CKR_OK) return fail("C_Login", rv);
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE find[] = {{CKA_CLASS, &cls, sizeof cls},
                           {CKA_LABEL, argv[4], (CK_ULONG)strlen(argv[4])}};
    CK_OBJECT_HANDLE obj[2];
    CK_ULONG count = 0;
    if ((rv = f->C_FindObjectsInit(s, find, 2)) != CKR_OK) return fail("C_FindObjectsInit", rv);
    rv = f->C_FindObjects(s, obj, 2, &count);
    f->C_FindObjectsFinal(s);
    if (rv != CKR_OK || count != 1) return fail("finding exactly one key", rv);
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE sign[] = {{CKA_SIGN, &no, sizeof no}};
    if ((rv = f->C_SetAttributeValue(s, obj[0], sign, 1)) != CKR_OK)
        return fail("C_SetAttributeValue(CKA_SIGN)", rv);
    f->C_Logout(s);
    f->C_CloseSession(s);
    f->C_Finalize(NULL);
    return 0;
}
