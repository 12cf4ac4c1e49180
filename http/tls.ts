import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions, type TlsOptions } from 'node:tls';

/**
 * HTTPS as the hub serves it: TLS 1.2 at least, forward-secret AEAD ciphers
 * only (TLS 1.3's three suites, then ECDHE with AES-GCM or ChaCha20 for 1.2),
 * the server's order preferred. The certificate and key are PEM files read at
 * start and again on SIGHUP (a renewed certificate is taken without dropping a
 * connection); files that do not load keep the certificate in use.
 */

export const TLS_MIN_VERSION = 'TLSv1.2';

const CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** What is served: the PEM material and what the log and the operator need to know of the certificate. */
export interface LoadedCertificate {
  options: SecureContextOptions;
  subject: string;
  /** ISO time the certificate expires */
  validTo: string;
  fingerprint256: string;
}

export class TlsFilesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsFilesError';
  }
}

/**
 * Reads and checks the certificate and key: both parse, and the key belongs
 * to the certificate (a secure context is built from them, which refuses a
 * mismatch). Errors name the file, never its content.
 */
export async function loadCertificate(files: TlsFiles): Promise<LoadedCertificate> {
  const read = async (file: string, what: string) => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new TlsFilesError(`cannot read the TLS ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  };
  const cert = await read(files.certFile, 'certificate (HUB_TLS_CERT)');
  const key = await read(files.keyFile, 'key (HUB_TLS_KEY)');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new TlsFilesError(`HUB_TLS_CERT ${files.certFile} is not a PEM certificate`);
  }
  const options: SecureContextOptions = { cert, key, minVersion: TLS_MIN_VERSION, ciphers: CIPHERS, honorCipherOrder: true };
  try {
    createSecureContext(options);
  } catch (error) {
    const reason =
      error instanceof Error && /mismatch/i.test(error.message) ? 'does not belong to the certificate' : 'is not a usable PEM private key';
    throw new TlsFilesError(`HUB_TLS_KEY ${files.keyFile} ${reason}`);
  }
  return {
    options,
    subject: certificate.subject.replace(/\n/g, ', '),
    validTo: new Date(certificate.validTo).toISOString(),
    fingerprint256: certificate.fingerprint256,
  };
}

/** The options of an HTTPS server serving this certificate. */
export function httpsOptions(loaded: LoadedCertificate): TlsOptions {
  return { ...loaded.options };
}
