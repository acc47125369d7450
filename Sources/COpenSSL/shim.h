#ifndef IPSECLAB_COPENSSL_SHIM_H
#define IPSECLAB_COPENSSL_SHIM_H
/* The low-level digests (SHA256_Init, ...) are deprecated in OpenSSL 3 but remain the only way to restart an HMAC from
   precomputed pads without a heap allocation per message: EVP_MAC_init and HMAC_Init_ex with a NULL key duplicate the
   provider's digest context (EVP_MD_CTX_copy_ex -> dupctx). IPsecCrypto's HMACPads uses them; see MACContext. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/opensslv.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/md5.h>
#endif
