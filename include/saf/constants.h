/* SPDX-License-Identifier: MIT */
/*
 * Every wire size, code point and limit of saf, in one place.
 *
 * The code points are experimental (IANA has assigned none), so each one that
 * goes on the wire has a compile-time default here and a runtime override in
 * the configuration structs that use it (see tcpopt.h, tls.h).
 */
#ifndef SAF_CONSTANTS_H
#define SAF_CONSTANTS_H

/* ---- TCP Service Affinity option (SPEC section 2) ---------------------- */

/* RFC 6994 shared experimental option kind, and our 16-bit experiment ID
 * ("SF"). */
#define SAF_TCPOPT_KIND_DEFAULT 253u
#define SAF_TCPOPT_EXID_DEFAULT 0x5346u

/* kind (1) + length (1) + ExID (2) */
#define SAF_TCPOPT_HDR_LEN 4u
#define SAF_IPV4_LEN 4u
#define SAF_IPV6_LEN 16u
#define SAF_PORT_LEN 2u

/* "The length alone selects the form." */
#define SAF_TCPOPT_LEN_FLAG 4u      /* SAF support flag, client SYN */
#define SAF_TCPOPT_LEN_V4 8u        /* IPv4 advert, port implied */
#define SAF_TCPOPT_LEN_V4_PORT 10u  /* IPv4 advert with port */
#define SAF_TCPOPT_LEN_V6 20u       /* IPv6 advert, port implied */
#define SAF_TCPOPT_LEN_V6_PORT 22u  /* IPv6 advert with port */
#define SAF_TCPOPT_MAX_LEN SAF_TCPOPT_LEN_V6_PORT

/* All TCP options of one segment share this many bytes (RFC 9293). */
#define SAF_TCP_OPTION_SPACE 40u

/* ---- TLS extensions (SPEC section 3.1) --------------------------------- */

#define SAF_TLSEXT_MIGRATION_SUPPORT_DEFAULT 0xFE4Du
#define SAF_TLSEXT_MIGRATION_TOKEN_DEFAULT 0xFE50u
#define SAF_TLSEXT_MIGRATE_NOTIFY_DEFAULT 0xFE51u
#define SAF_TLS_ALERT_MIGRATE_NOTIFY_DEFAULT 0xF0u
/* continuity (SPEC 4, docs/continuity.md): ClientHello and
 * EncryptedExtensions, body one byte, the version. */
#define SAF_TLSEXT_CONTINUITY_DEFAULT 0xFE52u
#define SAF_CONT_VERSION 1u
/* reattach (docs/continuity.md, "Early credential"): ClientHello (one
 * byte, the mode) and EncryptedExtensions (the credential). */
#define SAF_TLSEXT_REATTACH_DEFAULT 0xFE53u
#define SAF_REATTACH_ID_LEN	    16u
#define SAF_REATTACH_KEY_LEN	    32u
#define SAF_REATTACH_PROOF_LEN	    32u
/* REATTACH frame body: id then proof */
#define SAF_REATTACH_FRAME_BODY (SAF_REATTACH_ID_LEN + SAF_REATTACH_PROOF_LEN)

/* ---- MigrationToken (SPEC section 3.2) --------------------------------- */

#define SAF_TOKEN_ADDR_TYPE_IPV4 0u
#define SAF_TOKEN_ADDR_TYPE_IPV6 1u

#define SAF_TOKEN_SESSION_ID_MIN 32u
#define SAF_TOKEN_SESSION_ID_MAX 255u
#define SAF_TOKEN_NONCE_MIN 16u
#define SAF_TOKEN_NONCE_MAX 255u
#define SAF_TOKEN_SIGNATURE_MIN 32u
#define SAF_TOKEN_SIGNATURE_MAX 255u

/* What saf itself emits: 32-byte session id, 16-byte nonce, HMAC-SHA256. */
#define SAF_SESSION_ID_LEN 32u
#define SAF_NONCE_LEN 16u
#define SAF_SIGNATURE_LEN 32u

/* Smallest and largest exact encodings a decoder can meet. */
#define SAF_TOKEN_MIN_LEN                                                     \
	(1u + SAF_IPV4_LEN + SAF_PORT_LEN + 1u + SAF_TOKEN_SESSION_ID_MIN + 8u + \
	 1u + SAF_TOKEN_NONCE_MIN + 1u + SAF_TOKEN_SIGNATURE_MIN)
#define SAF_TOKEN_MAX_LEN                                                     \
	(1u + SAF_IPV6_LEN + SAF_PORT_LEN + 1u + SAF_TOKEN_SESSION_ID_MAX + 8u + \
	 1u + SAF_TOKEN_NONCE_MAX + 1u + SAF_TOKEN_SIGNATURE_MAX)

/* ---- Keys (SPEC section 3.3) ------------------------------------------- */

#define SAF_NODE_KEY_LEN 32u
#define SAF_TOKEN_KEY_LEN 32u
/* A TLS 1.3 resumption PSK is as long as the hash: 32 (SHA-256) or 48. */
#define SAF_PSK_MAX_LEN 64u

#define SAF_HKDF_SALT_SESSION_ID "saf session id"
#define SAF_HKDF_INFO_TOKEN_KEY "saf token v1"

/* ---- Continuity frames (docs/continuity.md) ---------------------------- */

#define SAF_CONT_FRAME_HEADER 3u /* type, uint16 length */
/* A frame never exceeds one TLS record's plaintext, so a DATA frame is one
 * record: header, uint64 offset, data. */
#define SAF_CONT_FRAME_MAX 16384u
#define SAF_CONT_DATA_MAX (SAF_CONT_FRAME_MAX - SAF_CONT_FRAME_HEADER - 8u)
#define SAF_CONT_OFFSET_LIMIT (1ull << 62)
/* Acknowledge at least this often while the application keeps reading
 * (about TCP's two segments: here four records)... */
#define SAF_CONT_ACK_BYTES 65536u
/* ... and once the connection is idle, for at least this many: half the
 * smallest send buffer, so a sender waiting on a full one always gets an
 * acknowledgement, and a bulk transfer does not pay one per record. */
#define SAF_CONT_ACK_IDLE_BYTES (SAF_CONT_SEND_MIN / 2u)
#define SAF_CONT_SEND_DEFAULT (256u * 1024u)
#define SAF_CONT_SEND_MIN 65536u
#define SAF_CONT_SEND_MAX (64u * 1024u * 1024u)
/* A client whose connection broke comes back this many times in a row,
 * the first pause this long and doubling (0.75 s of pauses in all). */
#define SAF_CONT_COMEBACK_TRIES_DEFAULT	     5u
#define SAF_CONT_COMEBACK_BACKOFF_MS_DEFAULT 50u
/* A client's continuity connection on which the node has said nothing for
 * this long (TCP keepalive unanswered, or data unacknowledged) counts as
 * broken (docs/continuity.md, "Liveness"); at most one hour. */
#define SAF_CONT_LIVENESS_S_DEFAULT 15u
#define SAF_CONT_LIVENESS_S_MAX	    3600u
/* Bytes of a token's session_id that name a stream in messages, on the
 * client and the node alike (public: the token travels in the clear). */
#define SAF_CONT_STREAM_ID_SHOWN 4u

/* ---- Defaults and limits ----------------------------------------------- */

#define SAF_TOKEN_LIFETIME_DEFAULT_S 600u
/* A node's replay cache holds token_lifetime_s x handshakes_per_s nonces
 * (docs/tls.md "Replay cache: size"): 600 s x 1000/s = 600,000 nonces,
 * 48 MiB. A node that completes more handshakes per second says so. */
#define SAF_NODE_HANDSHAKES_PER_S_DEFAULT 1000u
/* One source (an IPv4 /24, an IPv6 /56) may hold 1/8 of the cache. */
#define SAF_REPLAY_SOURCE_SHARE_DIV_DEFAULT 8u
#define SAF_REPLAY_SOURCE_PREFIX4_DEFAULT 24u
#define SAF_REPLAY_SOURCE_PREFIX6_DEFAULT 56u

#define SAF_ERROR_MSG_LEN 160u

#endif /* SAF_CONSTANTS_H */
