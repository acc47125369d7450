#ifndef IPSECLAB_CIPSECMB_H
#define IPSECLAB_CIPSECMB_H
// IPsecLab's shim over Intel's IPsec Multi-Buffer library (libipsec-mb). No type of the library appears here: the
// library's header is used only inside IPsecMB.c, which is compiled against it when <intel-ipsec-mb.h> is present at
// build time (else to stubs that report why), and the library itself is opened at run time with dlopen(), so that
// IPsecLab builds and runs where libipsec-mb is absent. See docs/ipsec-mb.md.
#include <stddef.h>
#include <stdint.h>

/// 1 when this build saw <intel-ipsec-mb.h> (and so can use the library if it loads), 0 otherwise.
int ipseclab_mb_compiled(void);

/// Opens the library once (thread-safe) and checks that it runs on this CPU. 1 when usable.
int ipseclab_mb_available(void);

/// One line: the library version and the code path chosen for this CPU, or why the library is not usable.
const char *ipseclab_mb_status(void);

/// The IMB_FEATURE_* bits of the calling thread's manager (0 when unavailable).
uint64_t ipseclab_mb_features(void);

/// The architecture of the chosen code path: 0 none, 1 no AES-NI, 2 SSE, 3 AVX, 4 AVX2, 5 AVX-512.
int ipseclab_mb_arch(void);

/// Ciphers and MACs of one ESP SA.
enum {
    IPSECLAB_MB_CIPHER_NULL = 0,
    IPSECLAB_MB_CIPHER_GCM = 1,
    IPSECLAB_MB_CIPHER_CCM = 2,
    IPSECLAB_MB_CIPHER_CHACHA20_POLY1305 = 3,
    IPSECLAB_MB_CIPHER_GMAC = 4,
    IPSECLAB_MB_CIPHER_CBC = 5,
    IPSECLAB_MB_CIPHER_CTR = 6,
    IPSECLAB_MB_CIPHER_3DES = 7,
};
enum {
    IPSECLAB_MB_MAC_NONE = 0,
    IPSECLAB_MB_MAC_HMAC_MD5 = 1,
    IPSECLAB_MB_MAC_HMAC_SHA1 = 2,
    IPSECLAB_MB_MAC_HMAC_SHA256 = 3,
    IPSECLAB_MB_MAC_HMAC_SHA384 = 4,
    IPSECLAB_MB_MAC_HMAC_SHA512 = 5,
    IPSECLAB_MB_MAC_AES_XCBC = 6,
    IPSECLAB_MB_MAC_AES_CMAC = 7,
};

/// One packet's work. Pointers stay owned by the caller; `tag` receives `mac_length` (composite) or the AEAD tag
/// length bytes. `status` is 0 after success and the library's error code (or -1) otherwise.
typedef struct {
    uint8_t *src;                /// composite: start of the hashed region (SPI); AEADs: the payload
    uint64_t cipher_offset;      /// bytes from `src` to the payload
    uint64_t cipher_length;      /// payload bytes
    uint64_t hash_length;        /// composite: bytes hashed from `src`
    const uint8_t *iv;           /// nonce (GCM, ChaCha20: 12; CCM: 11), IV (CBC 16, 3DES 8), CTR counter block (16)
    const uint8_t *aad;
    uint64_t aad_length;
    uint8_t *tag;
    int32_t status;
} ipseclab_mb_job;

typedef struct ipseclab_mb_esp ipseclab_mb_esp;

/// Keys one ESP SA: `key` is the cipher key without salt; `mac_key` the integrity key. `tag_length` is the AEAD tag
/// (GCM/CCM: 8, 12, 16; ChaCha20 and GMAC: 16) or, for composite SAs, the MAC bytes the library computes (at least
/// the ICV). Returns NULL (and a reason in `*error`) when the library or this combination is unusable.
ipseclab_mb_esp *ipseclab_mb_esp_new(int cipher, const uint8_t *key, size_t key_length, int mac,
                                     const uint8_t *mac_key, size_t mac_key_length, size_t tag_length,
                                     const char **error);
/// Cleanses and frees the key schedules.
void ipseclab_mb_esp_free(ipseclab_mb_esp *esp);

/// Encrypts every job's payload in place and writes its tag (AEAD) or MAC over the hashed region (composite,
/// encrypt-then-MAC). Returns the number of jobs that failed.
size_t ipseclab_mb_esp_seal(ipseclab_mb_esp *esp, ipseclab_mb_job *jobs, size_t count);
/// AEADs: decrypts in place and writes the computed tag (the caller compares it). Composite: only the MAC over the
/// hashed region, nothing decrypted (the caller compares, then calls ipseclab_mb_esp_decrypt on the verified jobs).
size_t ipseclab_mb_esp_open(ipseclab_mb_esp *esp, ipseclab_mb_job *jobs, size_t count);
/// Composite only: decrypts the payloads in place (no MAC). Jobs with a nonzero `status` on entry are skipped.
size_t ipseclab_mb_esp_decrypt(ipseclab_mb_esp *esp, ipseclab_mb_job *jobs, size_t count);
/// AEADs only: encrypts in place again without touching tags (restores a ciphertext after a failed open).
size_t ipseclab_mb_esp_reencrypt(ipseclab_mb_esp *esp, ipseclab_mb_job *job);

/// RFC 4543 GMAC (GCM SAs keyed with IPSECLAB_MB_CIPHER_GMAC): a 16-byte tag over the concatenation of `count`
/// parts, nonce `iv` (12 bytes).
int ipseclab_mb_gmac(ipseclab_mb_esp *esp, const uint8_t *iv, const uint8_t *const *parts, const uint64_t *lengths,
                     size_t count, uint8_t *tag);

/// The raw limit: seals (or opens) `count` buffers of `length` bytes `rounds` times with the library alone, nothing
/// of IPsec around it (GCM: the direct API; the others: the job API, `count` jobs submitted then flushed), AAD of 8
/// bytes, tags into `tags` (64 bytes each); opening computes tags and compares nothing. Returns the failed jobs.
size_t ipseclab_mb_raw(ipseclab_mb_esp *esp, int decrypt, uint8_t *const *buffers, size_t count, uint64_t length,
                       uint64_t rounds, uint8_t *tags);


/// AH: one MAC (HMAC, XCBC, CMAC; contexts made with IPSECLAB_MB_CIPHER_NULL) over `length` contiguous bytes from
/// `src`, `tag_length` bytes into `tag`, as a job alone on a per-thread manager of the SSE code path (SHA-NI for
/// HMAC-SHA-1/256), which does not wait for multi-buffer lanes to fill. 1 on success, 0 otherwise.
int ipseclab_mb_mac_one(ipseclab_mb_esp *esp, uint8_t *src, uint64_t length, uint8_t *tag);

#endif
