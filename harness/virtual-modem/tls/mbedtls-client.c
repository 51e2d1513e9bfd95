/*
 * TrustLab's mbedTLS 2.x TLS client: the stack the modems run, driven by the virtual modem.
 *
 * Verify knobs map to what the modem's AT settings mean (see mbedtls-engine.ts). Status lines go to
 * stderr ("key=value"); with --relay, application data is relayed stdin -> TLS and TLS -> stdout
 * after the handshake, so MQTT can flow over the real mbedTLS session.
 *
 * Build: cc -O1 -o client mbedtls-client.c -lmbedtls -lmbedx509 -lmbedcrypto
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/version.h"

struct options {
    const char *host, *port, *ca, *sni, *check_name;
    /* Client certificate chain and key (seclevel 2): presented when the server asks for one. */
    const char *cert, *key;
    int authmode;
    int min_minor, max_minor;
    int ciphers[64];
    int have_now;
    long long now;
    int ignore_time;
    uint32_t clear_flags;
    int leaf_only;
    int ip_san;
    int relay;
    /* Offline: verify this chain file (leaf first) against --ca as the handshake would, no network. */
    const char *verify_chain;
    /* The session cache file: loaded before the handshake when present, written after one that passed. */
    const char *session;
};

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static long long days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static long long epoch_of(const mbedtls_x509_time *t) {
    return days_from_civil(t->year, t->mon, t->day) * 86400LL + t->hour * 3600LL + t->min * 60LL + t->sec;
}

/*
 * mbedTLS 2.28 matches names against dNSName SANs only (an IP literal is string-compared with
 * them); with --ip-san an IP literal is matched against iPAddress SANs and nothing else
 * (RFC 6125 section 6.2.1), as the harness's strict reference expects.
 */
static int ip_san_matches(const mbedtls_x509_crt *crt, const char *name) {
    unsigned char ip[16];
    size_t len = 0;
    if (!name) return 0;
    if (inet_pton(AF_INET, name, ip) == 1) len = 4;
    else if (inet_pton(AF_INET6, name, ip) == 1) len = 16;
    else return 0;
    for (const mbedtls_x509_sequence *cur = &crt->subject_alt_names; cur != NULL; cur = cur->next) {
        if (cur->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && cur->buf.len == len && memcmp(cur->buf.p, ip, len) == 0)
            return 1;
    }
    return 0;
}

/*
 * Runs once per certificate of the chain. Re-judges validity against the device clock (the modem's
 * RTC, not the host's), drops the time flags when the modem ignores local time, and clears the
 * flags the modem's "ignore" knobs name.
 */
static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags) {
    const struct options *o = ctx;
    if (o->have_now || o->ignore_time) *flags &= ~(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
    if (o->have_now && !o->ignore_time) {
        if (epoch_of(&crt->valid_to) < o->now) *flags |= MBEDTLS_X509_BADCERT_EXPIRED;
        if (epoch_of(&crt->valid_from) > o->now) *flags |= MBEDTLS_X509_BADCERT_FUTURE;
    }
    *flags &= ~o->clear_flags;
    if (o->leaf_only && depth > 0) *flags = 0;
    /* RFC 6125: an IP literal matches iPAddress SANs only, never a dNSName that spells the address. */
    if (o->ip_san && depth == 0) {
        if (ip_san_matches(crt, o->check_name)) *flags &= ~MBEDTLS_X509_BADCERT_CN_MISMATCH;
        else *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    }
    return 0;
}

static int parse_version(const char *s) {
    if (!strcmp(s, "tls1.0")) return MBEDTLS_SSL_MINOR_VERSION_1;
    if (!strcmp(s, "tls1.1")) return MBEDTLS_SSL_MINOR_VERSION_2;
    if (!strcmp(s, "tls1.2")) return MBEDTLS_SSL_MINOR_VERSION_3;
    fprintf(stderr, "usage: unknown version %s\n", s);
    exit(2);
}

static void parse_ciphers(const char *s, int *out, size_t max) {
    size_t n = 0;
    char *copy = strdup(s), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && n + 1 < max; tok = strtok_r(NULL, ",", &save))
        out[n++] = (int)strtol(tok, NULL, 16);
    out[n] = 0;
    free(copy);
}

static void parse_args(int argc, char **argv, struct options *o) {
    memset(o, 0, sizeof *o);
    o->authmode = MBEDTLS_SSL_VERIFY_REQUIRED;
    o->min_minor = MBEDTLS_SSL_MINOR_VERSION_1;
    o->max_minor = MBEDTLS_SSL_MINOR_VERSION_3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE(field) do { if (!v) goto missing; o->field = v; i++; } while (0)
        if (!strcmp(a, "--connect")) TAKE(host);
        else if (!strcmp(a, "--port")) TAKE(port);
        else if (!strcmp(a, "--ca")) TAKE(ca);
        else if (!strcmp(a, "--sni")) TAKE(sni);
        else if (!strcmp(a, "--cert")) TAKE(cert);
        else if (!strcmp(a, "--key")) TAKE(key);
        else if (!strcmp(a, "--check-name")) TAKE(check_name);
        else if (!strcmp(a, "--authmode")) {
            if (!v) goto missing;
            o->authmode = !strcmp(v, "none") ? MBEDTLS_SSL_VERIFY_NONE
                        : !strcmp(v, "optional") ? MBEDTLS_SSL_VERIFY_OPTIONAL : MBEDTLS_SSL_VERIFY_REQUIRED;
            i++;
        } else if (!strcmp(a, "--min-version")) { if (!v) goto missing; o->min_minor = parse_version(v); i++; }
        else if (!strcmp(a, "--max-version")) { if (!v) goto missing; o->max_minor = parse_version(v); i++; }
        else if (!strcmp(a, "--ciphers")) { if (!v) goto missing; parse_ciphers(v, o->ciphers, 64); i++; }
        else if (!strcmp(a, "--now")) { if (!v) goto missing; o->have_now = 1; o->now = atoll(v); i++; }
        else if (!strcmp(a, "--clear-flags")) { if (!v) goto missing; o->clear_flags = (uint32_t)strtoul(v, NULL, 16); i++; }
        else if (!strcmp(a, "--ignore-time")) o->ignore_time = 1;
        else if (!strcmp(a, "--leaf-only")) o->leaf_only = 1;
        else if (!strcmp(a, "--ip-san")) o->ip_san = 1;
        else if (!strcmp(a, "--relay")) o->relay = 1;
        else if (!strcmp(a, "--verify-chain")) TAKE(verify_chain);
        else if (!strcmp(a, "--session")) TAKE(session);
        else { fprintf(stderr, "usage: unknown option %s\n", a); exit(2); }
#undef TAKE
    }
    if (!o->verify_chain && (!o->host || !o->port)) { fprintf(stderr, "usage: --connect ADDR --port N (or --verify-chain FILE) required\n"); exit(2); }
    return;
missing:
    fprintf(stderr, "usage: option without value\n");
    exit(2);
}

static int write_all_tls(mbedtls_ssl_context *ssl, const unsigned char *buf, size_t len) {
    while (len > 0) {
        int n = mbedtls_ssl_write(ssl, buf, len);
        if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        if (n < 0) return n;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_all_fd(int fd, const unsigned char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* stdin -> TLS, TLS -> stdout until either side ends. */
static void relay(mbedtls_ssl_context *ssl, int sock) {
    unsigned char buf[4096];
    for (;;) {
        if (mbedtls_ssl_get_bytes_avail(ssl) == 0) {
            struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = sock, .events = POLLIN}};
            if (poll(fds, 2, -1) < 0) { if (errno == EINTR) continue; return; }
            if (fds[0].revents & (POLLIN | POLLHUP)) {
                ssize_t n = read(0, buf, sizeof buf);
                if (n <= 0) { mbedtls_ssl_close_notify(ssl); fprintf(stderr, "relay=end by=host\n"); return; }
                if (write_all_tls(ssl, buf, (size_t)n) != 0) { fprintf(stderr, "relay=end by=write-error\n"); return; }
            }
            if (!(fds[1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        }
        int n = mbedtls_ssl_read(ssl, buf, sizeof buf);
        if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        if (n <= 0) { fprintf(stderr, "relay=end by=peer ret=-0x%04x\n", (unsigned)-n); return; }
        if (write_all_fd(1, buf, (size_t)n) != 0) return;
    }
}

/* The modem's session cache, one file per server: offered again on the next connection (id or ticket).
 * A saved session holds the peer's certificate, so it is as large as that certificate (16 kB rungs). */
static void load_session(mbedtls_ssl_context *ssl, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    unsigned char *blob = size > 0 ? malloc((size_t)size) : NULL;
    size_t n = blob ? fread(blob, 1, (size_t)size, f) : 0;
    fclose(f);
    mbedtls_ssl_session session;
    mbedtls_ssl_session_init(&session);
    int ret = blob ? mbedtls_ssl_session_load(&session, blob, n) : -1;
    if (ret == 0) ret = mbedtls_ssl_set_session(ssl, &session);
    fprintf(stderr, "session_offered=%s\n", ret == 0 ? "yes" : "unreadable");
    mbedtls_ssl_session_free(&session);
    free(blob);
}

static void save_session(mbedtls_ssl_context *ssl, const char *path) {
    size_t n = 0;
    unsigned char *blob = NULL;
    mbedtls_ssl_session session;
    mbedtls_ssl_session_init(&session);
    /* Asked with no buffer, save says how many bytes the session needs. */
    if (mbedtls_ssl_get_session(ssl, &session) == 0 &&
        mbedtls_ssl_session_save(&session, NULL, 0, &n) == MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL &&
        (blob = malloc(n)) != NULL && mbedtls_ssl_session_save(&session, blob, n, &n) == 0) {
        FILE *f = fopen(path, "wb");
        if (f) { fwrite(blob, 1, n, f); fclose(f); }
    } else {
        fprintf(stderr, "session_saved=no\n");
    }
    free(blob);
    mbedtls_ssl_session_free(&session);
}

int main(int argc, char **argv) {
    struct options o;
    parse_args(argc, argv, &o);
    setvbuf(stderr, NULL, _IOLBF, 0);

    mbedtls_net_context fd;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca, own;
    mbedtls_pk_context own_key;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    char buf[1024];
    int ret;
    mbedtls_net_init(&fd);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&own);
    mbedtls_pk_init(&own_key);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);

    mbedtls_version_get_string_full(buf);
    fprintf(stderr, "lib=%s\n", buf);
    mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const unsigned char *)"trustlab", 8);
    if (o.ca) {
        /* A bundle may hold certificates that do not parse; mbedTLS keeps the ones that do (ret > 0). */
        ret = mbedtls_x509_crt_parse_file(&ca, o.ca);
        if (ret < 0) { mbedtls_strerror(ret, buf, sizeof buf); fprintf(stderr, "ca_parse=-0x%04x %s\n", (unsigned)-ret, buf); }
        else if (ret > 0) fprintf(stderr, "ca_parse=partial skipped=%d\n", ret);
    }
    if (o.verify_chain) {
        /* The same profile, callback and name as the handshake's verification, minus the TLS layer. */
        mbedtls_x509_crt chain;
        uint32_t vflags = 0;
        mbedtls_x509_crt_init(&chain);
        ret = mbedtls_x509_crt_parse_file(&chain, o.verify_chain);
        if (ret < 0 || chain.version == 0) {
            mbedtls_strerror(ret, buf, sizeof buf);
            fprintf(stderr, "offline=FAIL chain_parse=-0x%04x %s\n", (unsigned)-ret, buf);
            return 1;
        }
        ret = mbedtls_x509_crt_verify_with_profile(&chain, ca.version != 0 ? &ca : NULL, NULL,
                                                   &mbedtls_x509_crt_profile_default, o.check_name, &vflags,
                                                   verify_cb, &o);
        if (vflags != 0) {
            mbedtls_x509_crt_verify_info(buf, sizeof buf, "", vflags);
            for (char *p = buf; *p; p++) if (*p == '\n') *p = ';';
        } else buf[0] = 0;
        fprintf(stderr, "offline=%s flags=0x%08x %s\n", ret == 0 ? "OK" : "FAIL", vflags, buf);
        mbedtls_x509_crt_free(&chain);
        return ret == 0 ? 0 : 1;
    }
    mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    mbedtls_ssl_conf_authmode(&conf, o.authmode);
    if (ca.version != 0) mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_ssl_conf_verify(&conf, verify_cb, &o);
    mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, o.min_minor);
    mbedtls_ssl_conf_max_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, o.max_minor);
    if (o.ciphers[0] != 0) mbedtls_ssl_conf_ciphersuites(&conf, o.ciphers);
    if (o.cert && o.key) {
        /* A client certificate that does not load is an engine fault, never a silent anonymous client. */
        if ((ret = mbedtls_x509_crt_parse_file(&own, o.cert)) != 0 ||
            (ret = mbedtls_pk_parse_keyfile(&own_key, o.key, NULL)) != 0 ||
            (ret = mbedtls_ssl_conf_own_cert(&conf, &own, &own_key)) != 0) {
            mbedtls_strerror(ret, buf, sizeof buf);
            fprintf(stderr, "own_cert=FAIL -0x%04x %s\n", (unsigned)-ret, buf);
            return 3;
        }
        fprintf(stderr, "own_cert=OK\n");
    }
    if ((ret = mbedtls_ssl_setup(&ssl, &conf)) != 0) { fprintf(stderr, "setup=-0x%04x\n", (unsigned)-ret); return 3; }
    /* The SNI extension carries whatever hostname is set when the ClientHello is written. */
    if (o.sni) mbedtls_ssl_set_hostname(&ssl, o.sni);

    if ((ret = mbedtls_net_connect(&fd, o.host, o.port, MBEDTLS_NET_PROTO_TCP)) != 0) {
        fprintf(stderr, "connect=FAIL ret=-0x%04x\n", (unsigned)-ret);
        return 4;
    }
    fprintf(stderr, "connect=OK\n");
    mbedtls_ssl_set_bio(&ssl, &fd, mbedtls_net_send, mbedtls_net_recv, NULL);
    if (o.session) load_session(&ssl, o.session);

    /*
     * Step the handshake so the name checked against the certificate can differ from the name sent
     * as SNI: once the ClientHello is out, the hostname is swapped for the one to verify (or cleared,
     * in which case stock mbedTLS 2.28 < 2.28.10 performs no name check at all).
     */
    int swapped = 0;
    ret = 0;
    while (ssl.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
        ret = mbedtls_ssl_handshake_step(&ssl);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) { ret = 0; continue; }
        if (ret != 0) break;
        if (!swapped && ssl.state > MBEDTLS_SSL_CLIENT_HELLO) {
            swapped = 1;
            mbedtls_ssl_set_hostname(&ssl, o.check_name);
        }
    }
    uint32_t flags = mbedtls_ssl_get_verify_result(&ssl);
    if (ret != 0) {
        mbedtls_strerror(ret, buf, sizeof buf);
        fprintf(stderr, "handshake=FAIL ret=-0x%04x (%s)\n", (unsigned)-ret, buf);
    }
    fprintf(stderr, "verify_flags=0x%08x\n", flags);
    if (flags != 0 && flags != (uint32_t)-1) {
        mbedtls_x509_crt_verify_info(buf, sizeof buf, "", flags);
        for (char *p = buf; *p; p++) if (*p == '\n') *p = ';';
        fprintf(stderr, "verify_info=%s\n", buf);
    }
    if (ret == 0) {
        fprintf(stderr, "handshake=OK version=%s suite=%s\n", mbedtls_ssl_get_version(&ssl), mbedtls_ssl_get_ciphersuite(&ssl));
        /* Only a handshake that passed verification (authmode required) leaves a session to resume. */
        if (o.session) save_session(&ssl, o.session);
        if (o.relay) relay(&ssl, fd.fd);
        else mbedtls_ssl_close_notify(&ssl);
    }
    mbedtls_net_free(&fd);
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&own);
    mbedtls_pk_free(&own_key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    return ret == 0 ? 0 : 1;
}
