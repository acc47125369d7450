// IPsecLab's shim over libipsec-mb. Compiled against <intel-ipsec-mb.h> when the header is present at build time;
// the library is opened with dlopen() at run time, so nothing links against it and the tool runs where it is absent.
// Every entry point of the library that is not reached through the manager's function table (alloc_mb_mgr,
// init_mb_mgr_auto, ...) is resolved with dlsym(); everything else (ciphers, hashes, key expansion, the job API)
// goes through the IMB_* macros, which call through that table.
#include "CIPsecMB.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if __has_include(<intel-ipsec-mb.h>)
#define IPSECLAB_HAVE_IPSEC_MB 1
#include <dlfcn.h>
#include <intel-ipsec-mb.h>
#else
#define IPSECLAB_HAVE_IPSEC_MB 0
#endif

int ipseclab_mb_compiled(void) { return IPSECLAB_HAVE_IPSEC_MB; }

#if IPSECLAB_HAVE_IPSEC_MB

// ---------------------------------------------------------------------------------------------------------------------
// Loading

static struct {
    IMB_MGR *(*alloc_mb_mgr)(uint64_t);
    void (*free_mb_mgr)(IMB_MGR *);
    void (*init_mb_mgr_auto)(IMB_MGR *, IMB_ARCH *);
    const char *(*imb_get_version_str)(void);
    int (*imb_get_errno)(IMB_MGR *);
} lib;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int loaded = 0;
static char status_line[256] = "libipsec-mb: not loaded";
static int loaded_arch = 0;
static pthread_key_t manager_key;

static void free_manager(void *manager) {
    if (manager != NULL) lib.free_mb_mgr((IMB_MGR *)manager);
}

static const char *arch_name(int arch) {
    switch (arch) {
    case IMB_ARCH_NOAESNI: return "no AES-NI (emulated AES)";
    case IMB_ARCH_SSE: return "SSE";
    case IMB_ARCH_AVX: return "AVX";
    case IMB_ARCH_AVX2: return "AVX2";
    case IMB_ARCH_AVX512: return "AVX-512";
    default: return "none";
    }
}

static void load(void) {
    void *handle = dlopen("libIPSec_MB.so.1", RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) handle = dlopen("libIPSec_MB.so", RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(status_line, sizeof status_line, "libipsec-mb: not available (libIPSec_MB.so.1 not found)");
        return;
    }
#define RESOLVE(name)                                                                                                  \
    do {                                                                                                               \
        *(void **)(&lib.name) = dlsym(handle, #name);                                                                  \
        if (lib.name == NULL) {                                                                                        \
            snprintf(status_line, sizeof status_line, "libipsec-mb: not available (no symbol %s)", #name);             \
            return;                                                                                                    \
        }                                                                                                              \
    } while (0)
    RESOLVE(alloc_mb_mgr);
    RESOLVE(free_mb_mgr);
    RESOLVE(init_mb_mgr_auto);
    RESOLVE(imb_get_version_str);
    RESOLVE(imb_get_errno);
#undef RESOLVE
    // A probe manager: the code path the library picks for this CPU.
    IMB_MGR *probe = lib.alloc_mb_mgr(0);
    if (probe == NULL) {
        snprintf(status_line, sizeof status_line, "libipsec-mb: not available (alloc_mb_mgr failed)");
        return;
    }
    IMB_ARCH arch = IMB_ARCH_NONE;
    lib.init_mb_mgr_auto(probe, &arch);
    uint64_t features = probe->features;
    lib.free_mb_mgr(probe);
    // The header this shim was compiled against must match the library's ABI (the manager's function table).
    const char *version = lib.imb_get_version_str();
    if (version == NULL || strncmp(version, IMB_VERSION_STR, 4) != 0) {
        snprintf(status_line, sizeof status_line, "libipsec-mb: not available (library %s, built against %s)",
                 version ? version : "?", IMB_VERSION_STR);
        return;
    }
    if (arch == IMB_ARCH_NONE || arch == IMB_ARCH_NOAESNI) {
        snprintf(status_line, sizeof status_line, "libipsec-mb %s: not used (this CPU has no AES-NI)", version);
        return;
    }
    if (pthread_key_create(&manager_key, free_manager) != 0) {
        snprintf(status_line, sizeof status_line, "libipsec-mb: not available (pthread_key_create failed)");
        return;
    }
    snprintf(status_line, sizeof status_line, "libipsec-mb %s, %s%s%s%s", version, arch_name(arch),
             (features & IMB_FEATURE_VAES) ? " with VAES" : "",
             (features & IMB_FEATURE_VPCLMULQDQ) ? ", VPCLMULQDQ" : "",
             (features & IMB_FEATURE_SHANI) ? ", SHA-NI" : "");
    loaded_arch = (int)arch;
    loaded = 1;
}

int ipseclab_mb_available(void) {
    pthread_once(&load_once, load);
    return loaded;
}

const char *ipseclab_mb_status(void) {
    pthread_once(&load_once, load);
    return status_line;
}

int ipseclab_mb_arch(void) { return ipseclab_mb_available() ? loaded_arch : 0; }

/// The calling thread's manager (the job queue is per manager, so one per thread), made on first use.
static IMB_MGR *manager(void) {
    if (!ipseclab_mb_available()) return NULL;
    IMB_MGR *m = pthread_getspecific(manager_key);
    if (m != NULL) return m;
    m = lib.alloc_mb_mgr(0);
    if (m == NULL) return NULL;
    IMB_ARCH arch;
    lib.init_mb_mgr_auto(m, &arch);
    pthread_setspecific(manager_key, m);
    return m;
}

uint64_t ipseclab_mb_features(void) {
    IMB_MGR *m = manager();
    return m ? m->features : 0;
}

// ---------------------------------------------------------------------------------------------------------------------
// Keys

struct ipseclab_mb_esp {
    struct gcm_key_data gcm;                       // GCM, GMAC (64-byte aligned)
    uint8_t enc_keys[16 * 15] __attribute__((aligned(16)));
    uint8_t dec_keys[16 * 15] __attribute__((aligned(16)));
    uint8_t ipad[64] __attribute__((aligned(16))); // HMAC inner state after key ^ ipad
    uint8_t opad[64] __attribute__((aligned(16)));
    uint32_t xcbc_k1[4 * 11] __attribute__((aligned(16)));
    uint8_t k2[16] __attribute__((aligned(16)));   // XCBC K2 / CMAC subkey 1
    uint8_t k3[16] __attribute__((aligned(16)));   // XCBC K3 / CMAC subkey 2
    uint64_t des_schedules[3][16] __attribute__((aligned(16)));
    const void *des_pointers[3];
    uint8_t raw_key[32] __attribute__((aligned(16))); // ChaCha20
    int cipher;
    int mac;
    uint64_t key_length;
    uint64_t tag_length;
    IMB_CIPHER_MODE cipher_mode;
    IMB_HASH_ALG hash_alg;
};

static void cleanse(void *p, size_t n) {
    volatile uint8_t *v = (volatile uint8_t *)p;
    while (n--) *v++ = 0;
}

static int hmac_pads(IMB_MGR *m, ipseclab_mb_esp *esp, const uint8_t *key, size_t key_length) {
    size_t block = (esp->mac == IPSECLAB_MB_MAC_HMAC_SHA384 || esp->mac == IPSECLAB_MB_MAC_HMAC_SHA512) ? 128 : 64;
    if (key_length > block) return 0;  // IPsec HMAC keys are never longer than the block (RFC 2403/2404/4868)
    uint8_t pad[128];
    for (int round = 0; round < 2; round++) {
        memset(pad, round == 0 ? 0x36 : 0x5c, block);
        for (size_t i = 0; i < key_length; i++) pad[i] ^= key[i];
        uint8_t *out = round == 0 ? esp->ipad : esp->opad;
        switch (esp->mac) {
        case IPSECLAB_MB_MAC_HMAC_MD5: IMB_MD5_ONE_BLOCK(m, pad, out); break;
        case IPSECLAB_MB_MAC_HMAC_SHA1: IMB_SHA1_ONE_BLOCK(m, pad, out); break;
        case IPSECLAB_MB_MAC_HMAC_SHA256: IMB_SHA256_ONE_BLOCK(m, pad, out); break;
        case IPSECLAB_MB_MAC_HMAC_SHA384: IMB_SHA384_ONE_BLOCK(m, pad, out); break;
        default: IMB_SHA512_ONE_BLOCK(m, pad, out); break;
        }
    }
    cleanse(pad, sizeof pad);
    return 1;
}

ipseclab_mb_esp *ipseclab_mb_esp_new(int cipher, const uint8_t *key, size_t key_length, int mac,
                                     const uint8_t *mac_key, size_t mac_key_length, size_t tag_length,
                                     const char **error) {
    IMB_MGR *m = manager();
    if (m == NULL) {
        *error = "libipsec-mb is not available";
        return NULL;
    }
    ipseclab_mb_esp *esp = NULL;
    if (posix_memalign((void **)&esp, 64, sizeof *esp) != 0) {
        *error = "out of memory";
        return NULL;
    }
    memset(esp, 0, sizeof *esp);
    esp->cipher = cipher;
    esp->mac = mac;
    esp->key_length = key_length;
    esp->tag_length = tag_length;
    int aes = key_length == 16 || key_length == 24 || key_length == 32;
    switch (cipher) {
    case IPSECLAB_MB_CIPHER_NULL:
        esp->cipher_mode = IMB_CIPHER_NULL;
        break;
    case IPSECLAB_MB_CIPHER_GCM:
    case IPSECLAB_MB_CIPHER_GMAC:
        if (!aes) goto bad_key;
        esp->cipher_mode = IMB_CIPHER_GCM;
        if (key_length == 16) IMB_AES128_GCM_PRE(m, key, &esp->gcm);
        else if (key_length == 24) IMB_AES192_GCM_PRE(m, key, &esp->gcm);
        else IMB_AES256_GCM_PRE(m, key, &esp->gcm);
        break;
    case IPSECLAB_MB_CIPHER_CCM:
        // libipsec-mb 1.3 has AES-CCM with 128- and 256-bit keys only.
        if (key_length != 16 && key_length != 32) {
            *error = "AES-192-CCM is not in libipsec-mb";
            goto fail;
        }
        esp->cipher_mode = IMB_CIPHER_CCM;
        esp->hash_alg = IMB_AUTH_AES_CCM;
        if (key_length == 16) IMB_AES_KEYEXP_128(m, key, esp->enc_keys, esp->dec_keys);
        else IMB_AES_KEYEXP_256(m, key, esp->enc_keys, esp->dec_keys);
        break;
    case IPSECLAB_MB_CIPHER_CHACHA20_POLY1305:
        if (key_length != 32) goto bad_key;
        esp->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
        esp->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
        memcpy(esp->raw_key, key, 32);
        break;
    case IPSECLAB_MB_CIPHER_CBC:
    case IPSECLAB_MB_CIPHER_CTR:
        if (!aes) goto bad_key;
        esp->cipher_mode = cipher == IPSECLAB_MB_CIPHER_CBC ? IMB_CIPHER_CBC : IMB_CIPHER_CNTR;
        if (key_length == 16) IMB_AES_KEYEXP_128(m, key, esp->enc_keys, esp->dec_keys);
        else if (key_length == 24) IMB_AES_KEYEXP_192(m, key, esp->enc_keys, esp->dec_keys);
        else IMB_AES_KEYEXP_256(m, key, esp->enc_keys, esp->dec_keys);
        break;
    case IPSECLAB_MB_CIPHER_3DES:
        if (key_length != 24) goto bad_key;
        esp->cipher_mode = IMB_CIPHER_DES3;
        for (int i = 0; i < 3; i++) {
            IMB_DES_KEYSCHED(m, esp->des_schedules[i], key + 8 * i);
            esp->des_pointers[i] = esp->des_schedules[i];
        }
        break;
    default:
        *error = "unknown cipher";
        goto fail;
    }
    switch (mac) {
    case IPSECLAB_MB_MAC_NONE:
        if (cipher == IPSECLAB_MB_CIPHER_GCM) esp->hash_alg = IMB_AUTH_AES_GMAC;
        else if (cipher != IPSECLAB_MB_CIPHER_CCM && cipher != IPSECLAB_MB_CIPHER_CHACHA20_POLY1305)
            esp->hash_alg = IMB_AUTH_NULL;
        break;
    case IPSECLAB_MB_MAC_HMAC_MD5: esp->hash_alg = IMB_AUTH_MD5; break;
    case IPSECLAB_MB_MAC_HMAC_SHA1: esp->hash_alg = IMB_AUTH_HMAC_SHA_1; break;
    case IPSECLAB_MB_MAC_HMAC_SHA256: esp->hash_alg = IMB_AUTH_HMAC_SHA_256; break;
    case IPSECLAB_MB_MAC_HMAC_SHA384: esp->hash_alg = IMB_AUTH_HMAC_SHA_384; break;
    case IPSECLAB_MB_MAC_HMAC_SHA512: esp->hash_alg = IMB_AUTH_HMAC_SHA_512; break;
    case IPSECLAB_MB_MAC_AES_XCBC: esp->hash_alg = IMB_AUTH_AES_XCBC; break;
    case IPSECLAB_MB_MAC_AES_CMAC: esp->hash_alg = IMB_AUTH_AES_CMAC; break;
    default:
        *error = "unknown MAC";
        goto fail;
    }
    if (mac >= IPSECLAB_MB_MAC_HMAC_MD5 && mac <= IPSECLAB_MB_MAC_HMAC_SHA512) {
        if (!hmac_pads(m, esp, mac_key, mac_key_length)) goto bad_key;
    } else if (mac == IPSECLAB_MB_MAC_AES_XCBC) {
        if (mac_key_length != 16) goto bad_key;
        IMB_AES_XCBC_KEYEXP(m, mac_key, esp->xcbc_k1, esp->k2, esp->k3);
    } else if (mac == IPSECLAB_MB_MAC_AES_CMAC) {
        if (mac_key_length != 16) goto bad_key;
        // CMAC keeps its own expanded key: CBC/CTR may use enc_keys for the cipher key.
        uint8_t unused[16 * 15] __attribute__((aligned(16)));
        IMB_AES_KEYEXP_128(m, mac_key, esp->xcbc_k1, unused);
        cleanse(unused, sizeof unused);
        IMB_AES_CMAC_SUBKEY_GEN_128(m, esp->xcbc_k1, esp->k2, esp->k3);
    }
    return esp;
bad_key:
    *error = "key length not supported by libipsec-mb";
fail:
    cleanse(esp, sizeof *esp);
    free(esp);
    return NULL;
}

void ipseclab_mb_esp_free(ipseclab_mb_esp *esp) {
    if (esp == NULL) return;
    cleanse(esp, sizeof *esp);
    free(esp);
}

// ---------------------------------------------------------------------------------------------------------------------
// Jobs

static int is_composite(const ipseclab_mb_esp *esp) {
    return esp->cipher == IPSECLAB_MB_CIPHER_NULL || esp->cipher == IPSECLAB_MB_CIPHER_CBC ||
           esp->cipher == IPSECLAB_MB_CIPHER_CTR || esp->cipher == IPSECLAB_MB_CIPHER_3DES;
}

static void set_mac_fields(const ipseclab_mb_esp *esp, IMB_JOB *job) {
    switch (esp->mac) {
    case IPSECLAB_MB_MAC_AES_XCBC:
        job->u.XCBC._k1_expanded = esp->xcbc_k1;
        job->u.XCBC._k2 = esp->k2;
        job->u.XCBC._k3 = esp->k3;
        break;
    case IPSECLAB_MB_MAC_AES_CMAC:
        job->u.CMAC._key_expanded = esp->xcbc_k1;
        job->u.CMAC._skey1 = esp->k2;
        job->u.CMAC._skey2 = esp->k3;
        break;
    case IPSECLAB_MB_MAC_NONE:
        break;
    default:
        job->u.HMAC._hashed_auth_key_xor_ipad = esp->ipad;
        job->u.HMAC._hashed_auth_key_xor_opad = esp->opad;
        break;
    }
}

static void set_cipher_keys(const ipseclab_mb_esp *esp, IMB_JOB *job) {
    if (esp->cipher == IPSECLAB_MB_CIPHER_3DES) {
        job->enc_keys = esp->des_pointers;
        job->dec_keys = esp->des_pointers;
    } else if (esp->cipher == IPSECLAB_MB_CIPHER_CHACHA20_POLY1305) {
        job->enc_keys = esp->raw_key;
        job->dec_keys = esp->raw_key;
    } else if (esp->cipher == IPSECLAB_MB_CIPHER_GCM) {
        job->enc_keys = &esp->gcm;
        job->dec_keys = &esp->gcm;
    } else {
        job->enc_keys = esp->enc_keys;
        job->dec_keys = esp->dec_keys;
    }
    job->key_len_in_bytes = esp->key_length;
}

static uint64_t iv_length(const ipseclab_mb_esp *esp) {
    switch (esp->cipher) {
    case IPSECLAB_MB_CIPHER_CBC: return 16;
    case IPSECLAB_MB_CIPHER_CTR: return 16;
    case IPSECLAB_MB_CIPHER_3DES: return 8;
    case IPSECLAB_MB_CIPHER_CCM: return 11;  // RFC 4309 §4: 3-byte salt ‖ 8-byte IV
    case IPSECLAB_MB_CIPHER_NULL: return 0;
    default: return 12;
    }
}

enum { STAGE_SEAL, STAGE_OPEN_AEAD, STAGE_HASH_ONLY, STAGE_DECRYPT_ONLY, STAGE_REENCRYPT, STAGE_OPEN_RAW };

/// Fills the next free job of the manager for `op` at `stage`.
static void fill(const ipseclab_mb_esp *esp, IMB_JOB *job, ipseclab_mb_job *op, int stage) {
    int composite = is_composite(esp);
    int decrypt = stage == STAGE_OPEN_AEAD || stage == STAGE_DECRYPT_ONLY || stage == STAGE_OPEN_RAW;
    job->cipher_direction = decrypt ? IMB_DIR_DECRYPT : IMB_DIR_ENCRYPT;
    job->cipher_mode = esp->cipher_mode;
    job->hash_alg = esp->hash_alg;
    set_cipher_keys(esp, job);
    job->src = op->src;
    job->dst = op->src + op->cipher_offset;
    job->cipher_start_src_offset_in_bytes = op->cipher_offset;
    job->msg_len_to_cipher_in_bytes = op->cipher_length;
    job->iv = op->iv;
    job->iv_len_in_bytes = iv_length(esp);
    job->user_data = op;
    if (composite) {
        job->hash_start_src_offset_in_bytes = 0;
        job->msg_len_to_hash_in_bytes = op->hash_length;
        job->auth_tag_output = op->tag;
        job->auth_tag_output_len_in_bytes = esp->tag_length;
        set_mac_fields(esp, job);
        if (stage == STAGE_HASH_ONLY) {
            job->cipher_mode = IMB_CIPHER_NULL;
            job->chain_order = IMB_ORDER_HASH_CIPHER;
        } else if (stage == STAGE_DECRYPT_ONLY) {
            job->hash_alg = IMB_AUTH_NULL;
            job->chain_order = IMB_ORDER_HASH_CIPHER;
        } else if (stage == STAGE_OPEN_RAW) {
            job->chain_order = IMB_ORDER_HASH_CIPHER;  // MAC over the ciphertext, then decrypt, in one job
        } else {
            job->chain_order = IMB_ORDER_CIPHER_HASH;  // encrypt, then MAC the ciphertext (RFC 4303 §3.3.2.1)
        }
        if (op->cipher_length == 0) job->cipher_mode = IMB_CIPHER_NULL;  // the library refuses empty CBC/CTR input
        if (job->cipher_mode == IMB_CIPHER_NULL) {
            job->msg_len_to_cipher_in_bytes = 0;
            job->iv_len_in_bytes = 0;
        }
        if (job->hash_alg == IMB_AUTH_NULL) {
            job->msg_len_to_hash_in_bytes = 0;
            job->auth_tag_output_len_in_bytes = 0;
        }
        return;
    }
    // AEADs (CCM, ChaCha20-Poly1305; GCM runs on the direct API): the tag covers AAD and payload.
    job->hash_start_src_offset_in_bytes = op->cipher_offset;
    job->msg_len_to_hash_in_bytes = op->cipher_length;
    job->auth_tag_output = op->tag;
    job->auth_tag_output_len_in_bytes = esp->tag_length;
    if (esp->cipher == IPSECLAB_MB_CIPHER_CCM) {
        job->u.CCM.aad = op->aad;
        job->u.CCM.aad_len_in_bytes = op->aad_length;
        // CCM authenticates the plaintext: MAC first when sealing, decrypt first when opening.
        job->chain_order = decrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
    } else {
        job->u.CHACHA20_POLY1305.aad = op->aad;
        job->u.CHACHA20_POLY1305.aad_len_in_bytes = op->aad_length;
        job->chain_order = decrypt ? IMB_ORDER_HASH_CIPHER : IMB_ORDER_CIPHER_HASH;
    }
    if (stage == STAGE_REENCRYPT) job->auth_tag_output = op->tag;  // the caller points `tag` at scratch
}

static void complete(IMB_JOB *job) {
    ipseclab_mb_job *op = (ipseclab_mb_job *)job->user_data;
    if (op != NULL) op->status = job->status == IMB_STATUS_COMPLETED ? 0 : (int32_t)job->status;
}

static IMB_MGR *single_manager(void);

/// Submits every job whose status is 0, then flushes; returns the number that did not complete. A composite
/// transform's lone job (a burst of one: the per-packet path) goes to the SSE manager, like AH's (below): on the
/// auto manager's 16-lane AVX-512 code a single HMAC job pays for the empty lanes, 2-6 times slower than OpenSSL.
static size_t run_jobs(ipseclab_mb_esp *esp, ipseclab_mb_job *ops, size_t count, int stage) {
    IMB_MGR *m = count == 1 && is_composite(esp) ? single_manager() : manager();
    if (m == NULL) {
        for (size_t i = 0; i < count; i++) ops[i].status = -1;
        return count;
    }
    for (size_t i = 0; i < count; i++) {
        if (ops[i].status != 0) continue;
        if (stage == STAGE_DECRYPT_ONLY && ops[i].cipher_length == 0) continue;  // nothing to decrypt
        ops[i].status = -2;  // pending until its job comes back
        IMB_JOB *job = IMB_GET_NEXT_JOB(m);
        fill(esp, job, &ops[i], stage);
        job = IMB_SUBMIT_JOB(m);
        while (job != NULL) {
            complete(job);
            job = IMB_GET_COMPLETED_JOB(m);
        }
    }
    IMB_JOB *job;
    while ((job = IMB_FLUSH_JOB(m)) != NULL) complete(job);
    size_t failed = 0;
    for (size_t i = 0; i < count; i++)
        if (ops[i].status != 0) failed++;
    return failed;
}

typedef void (*gcm_fn)(const struct gcm_key_data *, struct gcm_context_data *, uint8_t *, const uint8_t *, uint64_t,
                       const uint8_t *, const uint8_t *, uint64_t, uint8_t *, uint64_t);

static size_t run_gcm(ipseclab_mb_esp *esp, ipseclab_mb_job *ops, size_t count, int decrypt) {
    IMB_MGR *m = manager();
    if (m == NULL) return count;
    gcm_fn fn;
    switch (esp->key_length) {
    case 16: fn = decrypt ? m->gcm128_dec : m->gcm128_enc; break;
    case 24: fn = decrypt ? m->gcm192_dec : m->gcm192_enc; break;
    default: fn = decrypt ? m->gcm256_dec : m->gcm256_enc; break;
    }
    struct gcm_context_data context;
    for (size_t i = 0; i < count; i++) {
        ipseclab_mb_job *op = &ops[i];
        if (op->status != 0) continue;
        uint8_t *payload = op->src + op->cipher_offset;
        fn(&esp->gcm, &context, payload, payload, op->cipher_length, op->iv, op->aad, op->aad_length, op->tag,
           esp->tag_length);
    }
    cleanse(&context, sizeof context);
    return 0;
}

size_t ipseclab_mb_esp_seal(ipseclab_mb_esp *esp, ipseclab_mb_job *jobs, size_t count) {
    if (esp->cipher == IPSECLAB_MB_CIPHER_GCM) return run_gcm(esp, jobs, count, 0);
    if (esp->cipher == IPSECLAB_MB_CIPHER_GMAC) return count;
    return run_jobs(esp, jobs, count, STAGE_SEAL);
}

size_t ipseclab_mb_esp_open(ipseclab_mb_esp *esp, ipseclab_mb_job *jobs, size_t count) {
    if (esp->cipher == IPSECLAB_MB_CIPHER_GCM) return run_gcm(esp, jobs, count, 1);
    if (esp->cipher == IPSECLAB_MB_CIPHER_GMAC) return count;
    return run_jobs(esp, jobs, count, is_composite(esp) ? STAGE_HASH_ONLY : STAGE_OPEN_AEAD);
}

size_t ipseclab_mb_esp_decrypt(ipseclab_mb_esp *esp, ipseclab_mb_job *jobs, size_t count) {
    if (!is_composite(esp)) return count;
    if (esp->cipher == IPSECLAB_MB_CIPHER_NULL) return 0;
    return run_jobs(esp, jobs, count, STAGE_DECRYPT_ONLY);
}

size_t ipseclab_mb_esp_reencrypt(ipseclab_mb_esp *esp, ipseclab_mb_job *job) {
    if (esp->cipher == IPSECLAB_MB_CIPHER_GCM) return run_gcm(esp, job, 1, 0);
    if (is_composite(esp) || esp->cipher == IPSECLAB_MB_CIPHER_GMAC) return 1;
    return run_jobs(esp, job, 1, STAGE_REENCRYPT);
}

int ipseclab_mb_gmac(ipseclab_mb_esp *esp, const uint8_t *iv, const uint8_t *const *parts, const uint64_t *lengths,
                     size_t count, uint8_t *tag) {
    IMB_MGR *m = manager();
    if (m == NULL || esp->cipher != IPSECLAB_MB_CIPHER_GMAC) return 0;
    struct gcm_context_data context;
    switch (esp->key_length) {
    case 16:
        IMB_AES128_GMAC_INIT(m, &esp->gcm, &context, iv, 12);
        for (size_t i = 0; i < count; i++)
            if (lengths[i] > 0) IMB_AES128_GMAC_UPDATE(m, &esp->gcm, &context, parts[i], lengths[i]);
        IMB_AES128_GMAC_FINALIZE(m, &esp->gcm, &context, tag, 16);
        break;
    case 24:
        IMB_AES192_GMAC_INIT(m, &esp->gcm, &context, iv, 12);
        for (size_t i = 0; i < count; i++)
            if (lengths[i] > 0) IMB_AES192_GMAC_UPDATE(m, &esp->gcm, &context, parts[i], lengths[i]);
        IMB_AES192_GMAC_FINALIZE(m, &esp->gcm, &context, tag, 16);
        break;
    default:
        IMB_AES256_GMAC_INIT(m, &esp->gcm, &context, iv, 12);
        for (size_t i = 0; i < count; i++)
            if (lengths[i] > 0) IMB_AES256_GMAC_UPDATE(m, &esp->gcm, &context, parts[i], lengths[i]);
        IMB_AES256_GMAC_FINALIZE(m, &esp->gcm, &context, tag, 16);
        break;
    }
    cleanse(&context, sizeof context);
    return 1;
}

size_t ipseclab_mb_raw(ipseclab_mb_esp *esp, int decrypt, uint8_t *const *buffers, size_t count, uint64_t length,
                       uint64_t rounds, uint8_t *tags) {
    IMB_MGR *m = manager();
    if (m == NULL) return count * rounds;
    uint8_t iv[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 1};
    uint8_t aad[8] = {0, 0, 0x10, 0x01, 0, 0, 0, 1};
    size_t failed = 0;
    if (esp->cipher == IPSECLAB_MB_CIPHER_GCM) {
        gcm_fn fn = esp->key_length == 16 ? (decrypt ? m->gcm128_dec : m->gcm128_enc)
                    : esp->key_length == 24 ? (decrypt ? m->gcm192_dec : m->gcm192_enc)
                                            : (decrypt ? m->gcm256_dec : m->gcm256_enc);
        struct gcm_context_data context;
        for (uint64_t r = 0; r < rounds; r++)
            for (size_t i = 0; i < count; i++)
                fn(&esp->gcm, &context, buffers[i], buffers[i], length, iv, aad, 8, tags + 64 * i, esp->tag_length);
        return 0;
    }
    for (uint64_t r = 0; r < rounds; r++) {
        for (size_t i = 0; i < count; i++) {
            IMB_JOB *job = IMB_GET_NEXT_JOB(m);
            ipseclab_mb_job op = {.src = buffers[i], .cipher_offset = 0, .cipher_length = length,
                                  .hash_length = length, .iv = iv, .aad = aad, .aad_length = 8,
                                  .tag = tags + 64 * i};
            fill(esp, job, &op, decrypt ? (is_composite(esp) ? STAGE_OPEN_RAW : STAGE_OPEN_AEAD) : STAGE_SEAL);
            job->user_data = NULL;
            job = IMB_SUBMIT_JOB(m);
            while (job != NULL) {
                if (job->status != IMB_STATUS_COMPLETED) failed++;
                job = IMB_GET_COMPLETED_JOB(m);
            }
        }
        IMB_JOB *job;
        while ((job = IMB_FLUSH_JOB(m)) != NULL)
            if (job->status != IMB_STATUS_COMPLETED) failed++;
    }
    return failed;
}

// ---------------------------------------------------------------------------------------------------------------------
// One MAC at a time (AH)
//
// The manager init_mb_mgr_auto picks (AVX-512 here) runs HMAC-SHA-1/SHA-256 in 16-lane multi-buffer code, so a job
// submitted and flushed alone pays for the empty lanes: 4-6 times slower than OpenSSL per packet, measured. AH computes
// one ICV per call, so its jobs go to a second per-thread manager on the SSE code path, whose HMAC-SHA-1/SHA-256 run on
// SHA-NI two lanes wide (as fast as OpenSSL alone; the other MACs no slower than on the auto manager). Where the SSE
// path cannot be set up, the auto manager serves.

static pthread_once_t single_once = PTHREAD_ONCE_INIT;
static pthread_key_t single_key;
static int single_ready = 0;
static void (*init_mb_mgr_sse_fn)(IMB_MGR *) = NULL;
#define SINGLE_USE_AUTO ((void *)1)  // this thread's SSE manager could not be made: use the auto manager

static void free_single_manager(void *m) {
    if (m != NULL && m != SINGLE_USE_AUTO) lib.free_mb_mgr((IMB_MGR *)m);
}

static void single_setup(void) {
    if (!ipseclab_mb_available()) return;
    // The library is loaded already: RTLD_NOLOAD only finds its handle again.
    void *handle = dlopen("libIPSec_MB.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    if (handle == NULL) handle = dlopen("libIPSec_MB.so", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    if (handle == NULL) return;
    *(void **)(&init_mb_mgr_sse_fn) = dlsym(handle, "init_mb_mgr_sse");
    if (init_mb_mgr_sse_fn == NULL) return;
    if (pthread_key_create(&single_key, free_single_manager) != 0) return;
    single_ready = 1;
}

static IMB_MGR *single_manager(void) {
    pthread_once(&single_once, single_setup);
    if (!single_ready) return manager();
    void *m = pthread_getspecific(single_key);
    if (m == SINGLE_USE_AUTO) return manager();
    if (m != NULL) return (IMB_MGR *)m;
    IMB_MGR *made = lib.alloc_mb_mgr(0);
    if (made != NULL) {
        init_mb_mgr_sse_fn(made);
        if (lib.imb_get_errno(made) != 0) {
            lib.free_mb_mgr(made);
            made = NULL;
        }
    }
    pthread_setspecific(single_key, made != NULL ? (void *)made : SINGLE_USE_AUTO);
    return made != NULL ? made : manager();
}

int ipseclab_mb_mac_one(ipseclab_mb_esp *esp, uint8_t *src, uint64_t length, uint8_t *tag) {
    if (!is_composite(esp) || esp->mac == IPSECLAB_MB_MAC_NONE) return 0;
    IMB_MGR *m = single_manager();
    if (m == NULL) return 0;
    ipseclab_mb_job op = {.src = src, .hash_length = length, .tag = tag, .status = -2};
    IMB_JOB *job = IMB_GET_NEXT_JOB(m);
    fill(esp, job, &op, STAGE_HASH_ONLY);
    job = IMB_SUBMIT_JOB(m);
    while (job != NULL) {
        complete(job);
        job = IMB_GET_COMPLETED_JOB(m);
    }
    while ((job = IMB_FLUSH_JOB(m)) != NULL) complete(job);
    return op.status == 0;
}

#else  // no <intel-ipsec-mb.h> at build time: every entry point reports that, and nothing else is reachable.

int ipseclab_mb_available(void) { return 0; }
const char *ipseclab_mb_status(void) {
    return "libipsec-mb: not built (no intel-ipsec-mb.h when IPsecLab was compiled; install libipsec-mb-dev)";
}
uint64_t ipseclab_mb_features(void) { return 0; }
int ipseclab_mb_arch(void) { return 0; }
ipseclab_mb_esp *ipseclab_mb_esp_new(int cipher, const uint8_t *key, size_t key_length, int mac,
                                     const uint8_t *mac_key, size_t mac_key_length, size_t tag_length,
                                     const char **error) {
    (void)cipher, (void)key, (void)key_length, (void)mac, (void)mac_key, (void)mac_key_length, (void)tag_length;
    *error = "libipsec-mb was not found when IPsecLab was built";
    return NULL;
}
void ipseclab_mb_esp_free(ipseclab_mb_esp *esp) { (void)esp; }
size_t ipseclab_mb_esp_seal(ipseclab_mb_esp *esp, ipseclab_mb_job *jobs, size_t count) {
    (void)esp, (void)jobs;
    return count;
}
size_t ipseclab_mb_esp_open(ipseclab_mb_esp *esp, ipseclab_mb_job *jobs, size_t count) {
    (void)esp, (void)jobs;
    return count;
}
size_t ipseclab_mb_esp_decrypt(ipseclab_mb_esp *esp, ipseclab_mb_job *jobs, size_t count) {
    (void)esp, (void)jobs;
    return count;
}
size_t ipseclab_mb_esp_reencrypt(ipseclab_mb_esp *esp, ipseclab_mb_job *job) {
    (void)esp, (void)job;
    return 1;
}
int ipseclab_mb_gmac(ipseclab_mb_esp *esp, const uint8_t *iv, const uint8_t *const *parts, const uint64_t *lengths,
                     size_t count, uint8_t *tag) {
    (void)esp, (void)iv, (void)parts, (void)lengths, (void)count, (void)tag;
    return 0;
}
size_t ipseclab_mb_raw(ipseclab_mb_esp *esp, int decrypt, uint8_t *const *buffers, size_t count, uint64_t length,
                       uint64_t rounds, uint8_t *tags) {
    (void)esp, (void)decrypt, (void)buffers, (void)length, (void)tags;
    return count * rounds;
}

int ipseclab_mb_mac_one(ipseclab_mb_esp *esp, uint8_t *src, uint64_t length, uint8_t *tag) {
    (void)esp, (void)src, (void)length, (void)tag;
    return 0;
}

#endif
