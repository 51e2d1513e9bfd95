/**
 * Every trust-model question: a stable id (diffs, baselines and merges key on it) and its English
 * text (presentation only; rewording it changes no diff). Both the suite that answers and the
 * reports that read answers take the vocabulary from here.
 */
export const QUESTIONS = {
  'anchors.uploaded-ca.trusted': 'Trusts the uploaded CA?',
  'anchors.built-in-store.trusted': 'Trusts a CA other than the uploaded one (a built-in store)?',
  'chain.unrelated-root.refused': 'Verifies the server chain at seclevel 1 (refuses an unrelated root)?',
  'anchors.no-ca.connects': 'Connects with no CA uploaded at all?',
  'switch.no-verification.disables-checks': 'Does seclevel 0 switch verification off?',
  'root.without-basic-constraints.accepted': 'Accepts a root without BasicConstraints?',
  'root.ca-false.accepted': 'Accepts a root with BasicConstraints CA=FALSE?',
  'root.ku-without-keycertsign.accepted': 'Accepts a root whose KeyUsage lacks keyCertSign?',
  'root.without-key-usage.accepted': 'Accepts a root without KeyUsage?',
  'root.bc-not-critical.accepted': 'Accepts a root whose BasicConstraints is not critical?',
  'root.v1.accepted': 'Accepts a v1 root?',
  'anchors.intermediate-as-anchor.accepted': 'Accepts an intermediate uploaded as the trust anchor?',
  'validity.leaf.checked': "Checks the leaf's validity period?",
  'validity.intermediate.checked': "Checks the intermediate's validity period?",
  'validity.root.checked': "Checks the root's validity period?",
  'switch.ignore-clock.disables-validity': 'Does ignorelocaltime 1 switch the validity checks off?',
  'names.sni-on.checked': 'Checks the hostname with SNI on?',
  'names.sni-off.checked': 'Checks the hostname with SNI off?',
  'names.cn-fallback.accepted': 'Falls back to the subject CN when there is no SAN?',
  'names.cn-match-san-mismatch.accepted': 'Accepts a CN match when the SAN names another host?',
  'names.wildcard-one-label.accepted': 'Accepts a wildcard covering exactly one label?',
  'names.wildcard-beyond-label.accepted':
    'Accepts wildcards beyond one whole label (apex, two labels, partial)?',
  'names.ip-literal-ip-san.matched': 'Matches an IP literal against an iPAddress SAN?',
  'names.ip-literal-dns-san.matched': 'Matches an IP literal against a dNSName SAN?',
  'sni.sent': 'Sends SNI (sni 1)?',
  'sni.sent-when-off': 'Sends SNI with sni 0?',
  'sni.ip-literal-sent': 'Sends an IP literal as SNI (RFC 6066 forbids it)?',
  'chain.depth-8.accepted': 'Accepts the deepest chain tested (8 intermediates)?',
  'chain.reverse-order.accepted': 'Accepts intermediates sent in reverse order?',
  'chain.missing-intermediate.completed': 'Completes a chain whose intermediate was not sent?',
  'chain.extra-unrelated-cert.accepted': 'Accepts an unrelated certificate inside the served chain?',
  'chain.pathlen.enforced': 'Enforces pathLenConstraint?',
  'chain.non-ca-intermediate.accepted':
    'Accepts an intermediate that is not a CA (no BasicConstraints, or CA=FALSE)?',
  'keys.rsa1024.accepted': 'Accepts RSA-1024 keys (leaf or root)?',
  'signatures.sha1.accepted': 'Accepts SHA-1 signatures?',
  'signatures.md5.accepted': 'Accepts MD5 signatures?',
  'signatures.corrupted.refused': 'Refuses corrupted signatures?',
  'switch.ignoreinvalidcertsign.changes-signature-checks':
    'Does ignoreinvalidcertsign 1 change the signature checks?',
  'switch.ignoremulticertchainverify.stops-chain-checks':
    'Does ignoremulticertchainverify 1 stop the checks above the leaf?',
  'extensions.eku-without-server-auth.refused': 'Refuses a leaf whose EKU lacks serverAuth?',
  'extensions.unknown-critical.refused': 'Refuses unknown critical extensions?',
  'extensions.unknown-critical-root.refused-at-upload':
    'Refuses a root with an unknown critical extension at upload, before dialling?',
  'anchors.refused-before-dialling': 'Refuses some trust anchors at upload or binding, before dialling?',
  'extensions.name-constraints.processed':
    'Processes nameConstraints (accepts a chain whose constraints permit the name)?',
  'tls.version-limit.respected': 'Offers only the TLS version it is configured for (sslversion)?',
  'tls.cipher-suite-limit.respected': 'Offers only the cipher suite it is configured for (ciphersuite)?',
  'tls.tls13.spoken': 'Speaks TLS 1.3 (connects to a TLS 1.3-only broker)?',
  'tls.fragmented-handshake.reassembled': 'Reassembles a handshake fragmented into 512-byte records?',
  'tls.fragmented-handshake.every-size-reassembled':
    'Reassembles handshakes cut at 512, 1024 and 4096 bytes?',
  'tls.old-version-server.accepted': 'Connects to a TLS 1.0/1.1-only server (a downgrade)?',
  'tls.alpn.offered': 'Offers ALPN?',
  'tls.secure-renegotiation.offered': 'Offers secure renegotiation (RFC 5746)?',
  'tls.max-fragment-length.offered': 'Offers max_fragment_length?',
  'tls.session-ticket.offered': 'Offers session tickets?',
  'tls.server-hello.checked':
    'Refuses a ServerHello naming what it never offered (suite, ALPN, TLS 1.2 downgrade)?',
  'tls.session.resumed': 'Offers its session again and resumes it?',
  'tls.session.resumed-after-chain-change':
    "Resumes its session after the server's chain changed to one it refuses (never shown that chain)?",
  'size.served-chain.16k-accepted': 'Accepts served chains up to 16 kB?',
  'size.server-certificate.16k-accepted': 'Accepts a server certificate of up to 16 kB?',
  'size.anchor-file.50-used': 'Finds its root last among 50 uploaded certificates?',
  'keys.server-key.every-type-accepted': 'Accepts every server key type, RSA-2048 to Ed25519?',
  'keys.ed25519.accepted': 'Accepts an Ed25519 server certificate?',
  'uploads.pem-crlf.verifies': 'Verifies with its root uploaded as CRLF PEM?',
  'uploads.der.verifies': 'Verifies with its root uploaded as one DER certificate?',
  'uploads.pem-variants.verify': 'Verifies with its root as CRLF PEM, behind a BOM, or with trailing text?',
  'chains.field-paths.followed': 'Finds the valid path beside a cross-signed, SHA-1 or expired root copy?',
  'client.certificate.presented': 'Presents a client certificate at seclevel 2?',
  'rotation.rebind.effective': 'A rebound CA takes effect without a reboot?',
  'rotation.reboot.settings-kept': 'SSL context settings survive a reboot (AT+CFUN=1,1)?',
  'rotation.reboot.files-kept': 'Uploaded CA files survive a reboot?',
} as const;

export type QuestionId = keyof typeof QUESTIONS;

const BY_TEXT: ReadonlyMap<string, QuestionId> = new Map(
  (Object.entries(QUESTIONS) as [QuestionId, string][]).map(([id, text]) => [text, id]),
);

/** The id of a question written by a harness from before ids existed (keyed by its text); null when unknown. */
export function questionIdOfText(text: string): QuestionId | null {
  return BY_TEXT.get(text) ?? null;
}

export const isQuestionId = (value: string): value is QuestionId => Object.hasOwn(QUESTIONS, value);
