/*
 * CNGHTTP2: Swift's view of the system nghttp2 (Debian's libnghttp2-dev), used for HTTP/2
 * framing and HPACK on meshed and prior-knowledge h2 connections.
 *
 * Only macro wrappers live here, prefixed `sy_`. nghttp2's API is functions, enums and
 * structs, and its plain string and integer macros (NGHTTP2_VERSION, NGHTTP2_VERSION_NUM,
 * NGHTTP2_PROTO_ALPN, NGHTTP2_CLIENT_MAGIC, ...) import as constants; the only wrappers needed
 * are `static const` copies of the integer macros written as expressions.
 */
#ifndef SWITCHYARD_CNGHTTP2_SHIM_H
#define SWITCHYARD_CNGHTTP2_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <nghttp2/nghttp2.h>

/* Integer macros written as expressions, which Swift does not import. */
static const int32_t sy_NGHTTP2_MAX_WINDOW_SIZE = NGHTTP2_MAX_WINDOW_SIZE;
static const int32_t sy_NGHTTP2_INITIAL_WINDOW_SIZE = NGHTTP2_INITIAL_WINDOW_SIZE;
static const int32_t sy_NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE = NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE;
static const uint32_t sy_NGHTTP2_INITIAL_MAX_CONCURRENT_STREAMS = NGHTTP2_INITIAL_MAX_CONCURRENT_STREAMS;
static const size_t sy_NGHTTP2_PROTO_ALPN_LEN = NGHTTP2_PROTO_ALPN_LEN;

#endif /* SWITCHYARD_CNGHTTP2_SHIM_H */
