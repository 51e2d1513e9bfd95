import { randomBytes, type X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { alertByNumber, alertFromError } from './alerts.ts';
import { certificatesIn, checkClientCertificate } from './client-cert-check.ts';
import { type EndpointConfig, TLS_VERSION_ORDER } from './endpoint.ts';
import { closeServer, listenOn } from './listen.ts';
import type { ConnectionObservation } from './observation.ts';

/** What the application on top of TLS gets: the socket and its observation record. */
export type SecureApplication = (socket: tls.TLSSocket, obs: ConnectionObservation | undefined) => void;

export interface NodeTlsEngine {
  readonly port: number;
  /** Adjustments made for this config (security level lowered, …). */
  readonly notes: readonly string[];
  /**
   * Serves this chain and key to every later connection, keeping the session-ticket keys, so a
   * client may resume a session made under the earlier chain (no Certificate is then sent).
   */
  serveChain(chainPem: string, keyPem: string): void;
  close(): Promise<void>;
}

/** OpenSSL errors Node raises when the served chain is too weak for the current security level. */
const WEAK_CHAIN_CODES = new Set([
  'ERR_SSL_CA_MD_TOO_WEAK',
  'ERR_SSL_EE_KEY_TOO_SMALL',
  'ERR_SSL_CA_KEY_TOO_SMALL',
]);

/**
 * Alerts OpenSSL sends for its own handshake errors; used only when the wire cannot show the alert
 * (TLS 1.3 encrypts it), and marked `inferred`.
 */
function serverAlertFor(code: string | undefined, version: string | undefined) {
  switch (code) {
    case 'ERR_SSL_UNSUPPORTED_PROTOCOL':
    case 'ERR_SSL_VERSION_TOO_LOW':
      return alertByNumber(70);
    case 'ERR_SSL_NO_SHARED_CIPHER':
    case 'ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM':
      return alertByNumber(40);
    case 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE':
      return alertByNumber(version === 'TLSv1.3' ? 116 : 40);
    default:
      return null;
  }
}

function cipherString(config: EndpointConfig, securityLevel: number | undefined): string | undefined {
  const parts = [config.tls13Ciphersuites, config.ciphers].filter((p): p is string => !!p);
  if (securityLevel === undefined) return parts.length > 0 ? parts.join(':') : undefined;
  if (parts.length === 0) parts.push(tls.DEFAULT_CIPHERS);
  return `${parts.join(':')}:@SECLEVEL=${securityLevel}`;
}

/** Builds a secure context, lowering the security level to 0 only when the chain or version needs it. */
function secureContextFor(
  config: EndpointConfig,
  chainPem: string,
  keyPem: string,
  notes: string[],
  ticketKeys: Buffer,
): tls.SecureContext {
  const min = config.minTlsVersion;
  const oldVersion =
    min !== undefined && TLS_VERSION_ORDER.indexOf(min) < TLS_VERSION_ORDER.indexOf('TLSv1.2');
  let level = config.securityLevel;
  if (level === undefined && oldVersion) {
    level = 0;
    notes.push(`security level 0: ${min} is refused at OpenSSL's default level`);
  }
  const build = (securityLevel: number | undefined) =>
    tls.createSecureContext({
      cert: chainPem,
      key: keyPem,
      minVersion: config.minTlsVersion,
      maxVersion: config.maxTlsVersion,
      ciphers: cipherString(config, securityLevel),
      honorCipherOrder: true,
      // One endpoint, one ticket key and session context: a ticket stays good across a chain change.
      ticketKeys,
      sessionIdContext: 'trustlab',
    });
  try {
    return build(level);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (config.securityLevel !== undefined || !WEAK_CHAIN_CODES.has(code)) throw err;
    notes.push(`security level 0: the served chain is refused at the default level (${code})`);
    return build(0);
  }
}

/**
 * An in-process Node TLS server on an internal loopback port, one TLSSocket per connection (so each
 * can be given a small record size before its handshake). The observing front relays clients here
 * and `lookup` finds each connection's record by the relay's port.
 */
export async function startNodeTlsEngine(
  config: EndpointConfig,
  lookup: (remotePort: number) => ConnectionObservation | undefined,
  application: SecureApplication,
): Promise<NodeTlsEngine> {
  const notes: string[] = [];
  const ticketKeys = randomBytes(48);
  let mainContext = secureContextFor(config, config.chainPem, config.keyPem, notes, ticketKeys);
  const routing = config.sniRouting;
  const defaultContext =
    routing?.defaultChainPem && routing.defaultKeyPem
      ? secureContextFor(config, routing.defaultChainPem, routing.defaultKeyPem, notes, ticketKeys)
      : mainContext;
  const clientCas: X509Certificate[] = config.clientAuth
    ? certificatesIn(config.clientAuth.caPem, 'clientAuth.caPem')
    : [];
  const sockets = new Set<net.Socket>();

  const server = net.createServer((raw) => {
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
    const socket = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: routing ? defaultContext : mainContext,
      // `requestCert` + `rejectUnauthorized` makes OpenSSL refuse a client that sends no certificate
      // (certificate_required); the certificate itself is checked in JS once the handshake is done.
      requestCert: config.clientAuth !== undefined,
      rejectUnauthorized: config.clientAuth?.required ?? false,
      SNICallback: routing
        ? (name, done) => done(null, name === routing.hostname ? mainContext : defaultContext)
        : undefined,
    });
    if (config.handshakeFragment) socket.setMaxSendFragment(config.handshakeFragment);
    const obs = () => (raw.remotePort === undefined ? undefined : lookup(raw.remotePort));

    socket.once('secure', () => {
      const o = obs();
      if (o) {
        o.handshake = 'completed';
        o.resumed = socket.isSessionReused();
        o.servername = typeof socket.servername === 'string' ? socket.servername : null;
        const cipher = socket.getCipher();
        o.negotiated = {
          version: socket.getProtocol() ?? 'unknown',
          cipher: cipher.standardName ?? cipher.name,
        };
      }
      if (config.clientAuth) {
        const seen = checkClientCertificate(socket.getPeerCertificate(true), clientCas);
        if (o) o.clientCertificate = seen;
        if (config.clientAuth.required && !seen?.verified) {
          // Node has no way to send an alert here; it closes, as a Node mTLS server always does.
          if (o)
            o.serverClosedReason = `client certificate refused: ${seen?.verifyError ?? 'none presented'}`;
          socket.destroy();
          return;
        }
      }
      application(socket, o);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const o = obs();
      if (o?.handshake !== 'pending') return; // after the handshake the front records the close
      const alert = alertFromError(err);
      if (alert) {
        o.handshake = 'client-alert';
        o.clientAlert = alert;
        o.clientAlertSource = 'tls-stack';
        o.closedBy = 'client'; // a fatal alert ends the connection, whichever FIN arrives first
      } else if (err.code === 'ECONNRESET' || /socket disconnected|ECONNRESET/.test(err.message)) {
        o.handshake = 'closed-without-alert';
        o.closedBy ??= 'client';
      } else if (o.clientHelloError?.startsWith('not TLS')) {
        o.handshake = 'not-tls';
        o.serverError = err.code ?? err.message;
      } else {
        o.handshake = 'server-error';
        o.serverError = err.code ?? err.message;
        const inferred = serverAlertFor(err.code, o.wire.serverHello?.version);
        if (inferred && !o.serverAlert) {
          o.serverAlert = inferred;
          o.serverAlertSource = 'inferred';
        }
      }
    });
  });
  const port = await listenOn(server, { host: '127.0.0.1', port: 0 });
  return {
    port,
    notes,
    serveChain(chainPem, keyPem) {
      mainContext = secureContextFor(config, chainPem, keyPem, notes, ticketKeys);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await closeServer(server);
    },
  };
}
