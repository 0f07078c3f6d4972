/*
 * COpenSSL: Swift's view of the system OpenSSL 3 (libssl + libcrypto, Debian's libssl-dev),
 * used for the mesh's mutual TLS (TLS 1.3, workload certificates, SAN checks, SNI).
 *
 * Only macro wrappers live here, all prefixed `sy_`: `static inline` functions standing in for
 * function-like macros, and `static const` copies of constant macros Swift cannot import.
 * Whatever OpenSSL 3 already declares as a real or static inline function (SSL_CTX_set_options,
 * X509_get0_notBefore, ERR_GET_LIB, ERR_GET_REASON, EVP_PKEY_CTX_set_group_name, ...) is
 * called directly from Swift.
 */
#ifndef SWITCHYARD_COPENSSL_SHIM_H
#define SWITCHYARD_COPENSSL_SHIM_H

#include <openssl/opensslv.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>

#if OPENSSL_VERSION_MAJOR < 3
#error "Switchyard needs OpenSSL 3 or newer"
#endif

/* MARK: - Protocol versions */

static inline int sy_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int sy_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

static inline int sy_SSL_CTX_get_min_proto_version(SSL_CTX *ctx) {
    return (int)SSL_CTX_get_min_proto_version(ctx);
}

static inline int sy_SSL_CTX_get_max_proto_version(SSL_CTX *ctx) {
    return (int)SSL_CTX_get_max_proto_version(ctx);
}

/* MARK: - Option bits
   SSL_OP_* are SSL_OP_BIT(n) expressions, which Swift does not import; pass these to
   SSL_CTX_set_options / SSL_set_options (real functions in OpenSSL 3). */

static const uint64_t sy_SSL_OP_ALL = SSL_OP_ALL;
static const uint64_t sy_SSL_OP_NO_COMPRESSION = SSL_OP_NO_COMPRESSION;
static const uint64_t sy_SSL_OP_NO_RENEGOTIATION = SSL_OP_NO_RENEGOTIATION;
static const uint64_t sy_SSL_OP_NO_TICKET = SSL_OP_NO_TICKET;
static const uint64_t sy_SSL_OP_CIPHER_SERVER_PREFERENCE = SSL_OP_CIPHER_SERVER_PREFERENCE;
static const uint64_t sy_SSL_OP_IGNORE_UNEXPECTED_EOF = SSL_OP_IGNORE_UNEXPECTED_EOF;

/* MARK: - Context and connection settings */

static inline long sy_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

static inline long sy_SSL_set_mode(SSL *ssl, long mode) {
    return SSL_set_mode(ssl, mode);
}

static inline int sy_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *groups) {
    return (int)SSL_CTX_set1_groups_list(ctx, groups);
}

static inline long sy_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

/* Adds an intermediate to the context's own chain; takes its own reference (add1). */
static inline int sy_SSL_CTX_add1_chain_cert(SSL_CTX *ctx, X509 *cert) {
    return (int)SSL_CTX_add1_chain_cert(ctx, cert);
}

/* MARK: - SNI */

/* Client side: the server name sent in the ClientHello. */
static inline int sy_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/* Server side: called with the ClientHello's server name, to pick the certificate.
   Return SSL_TLSEXT_ERR_OK, SSL_TLSEXT_ERR_NOACK or SSL_TLSEXT_ERR_ALERT_FATAL (setting *alert). */
typedef int (*sy_servername_callback)(SSL *ssl, int *alert, void *arg);

static inline long sy_SSL_CTX_set_tlsext_servername_callback(SSL_CTX *ctx, sy_servername_callback cb) {
    return SSL_CTX_set_tlsext_servername_callback(ctx, cb);
}

static inline long sy_SSL_CTX_set_tlsext_servername_arg(SSL_CTX *ctx, void *arg) {
    return SSL_CTX_set_tlsext_servername_arg(ctx, arg);
}

/* MARK: - Memory BIOs */

/* Points *data at the BIO's buffer (not a copy) and returns its length. */
static inline long sy_BIO_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

static inline long sy_BIO_set_mem_eof_return(BIO *bio, int value) {
    return BIO_set_mem_eof_return(bio, value);
}

/* BIO_pending as the macro does it (BIO_ctrl with BIO_CTRL_PENDING). */
static inline int sy_BIO_pending(BIO *bio) {
    return BIO_pending(bio);
}

/* MARK: - Stacks */

static inline STACK_OF(X509) *sy_sk_X509_new_null(void) {
    return sk_X509_new_null();
}

/* Takes over the caller's reference to cert; returns the new count, or 0 on failure. */
static inline int sy_sk_X509_push(STACK_OF(X509) *sk, X509 *cert) {
    return sk_X509_push(sk, cert);
}

static inline int sy_sk_X509_num(const STACK_OF(X509) *sk) {
    return sk_X509_num(sk);
}

static inline X509 *sy_sk_X509_value(const STACK_OF(X509) *sk, int index) {
    return sk_X509_value(sk, index);
}

/* Frees the stack and every certificate in it. */
static inline void sy_sk_X509_pop_free(STACK_OF(X509) *sk) {
    sk_X509_pop_free(sk, X509_free);
}

static inline int sy_sk_GENERAL_NAME_num(const STACK_OF(GENERAL_NAME) *sk) {
    return sk_GENERAL_NAME_num(sk);
}

static inline GENERAL_NAME *sy_sk_GENERAL_NAME_value(const STACK_OF(GENERAL_NAME) *sk, int index) {
    return sk_GENERAL_NAME_value(sk, index);
}

/* Frees the stack and every name in it (e.g. what X509_get_ext_d2i(cert, NID_subject_alt_name, ...) returned). */
static inline void sy_sk_GENERAL_NAME_pop_free(STACK_OF(GENERAL_NAME) *sk) {
    sk_GENERAL_NAME_pop_free(sk, GENERAL_NAME_free);
}

/* MARK: - Memory */

static inline void sy_OPENSSL_free(void *pointer) {
    OPENSSL_free(pointer);
}

/* MARK: - Certificates */

/* Mutable views (X509_get_notBefore is an alias macro for X509_getm_notBefore);
   for reading, X509_get0_notBefore / X509_get0_notAfter are plain functions. */
static inline ASN1_TIME *sy_X509_get_notBefore(X509 *cert) {
    return X509_get_notBefore(cert);
}

static inline ASN1_TIME *sy_X509_get_notAfter(X509 *cert) {
    return X509_get_notAfter(cert);
}

#endif /* SWITCHYARD_COPENSSL_SHIM_H */
