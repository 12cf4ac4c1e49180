import type { z } from 'zod';
import type { CallContext, ConnectorHttp } from '../kit/definition.ts';
import { parseAnswer } from '../kit/parse.ts';
import { TokenSession } from '../kit/session.ts';
import { ConnectorError, KIT_ERROR_CODES } from '../kit/errors.ts';
import {
  endpointDeclarationSchema,
  errorMappingSchema,
  envelopeSchema,
  generateDealsRequestSchema,
  generatedDealsSchema,
  GOODFIN_OAUTH_CLIENT_ID,
  GOODFIN_PATHS,
  jwtExpiry,
  statusMappingSchema,
  tokenSchema,
  type EndpointDeclaration,
  type ErrorMapping,
  type GeneratedDeals,
  type GoodfinEnvelope,
  type StatusMapping,
} from './protocol.ts';

/** A token is renewed this long before it expires. */
const RENEW_BEFORE_MS = 60_000;

export interface GoodfinCredentials {
  serviceSystemName: string;
  password: string;
}

/** Typed client of Goodfin's service API, holding one OAuth session. */
export class GoodfinClient {
  readonly session: TokenSession;

  constructor(
    private readonly http: ConnectorHttp,
    private readonly credentials: GoodfinCredentials,
    now: () => number = Date.now,
  ) {
    this.session = new TokenSession(() => this.requestToken(now), { renewBeforeMs: RENEW_BEFORE_MS, now });
  }

  get serviceSystemName(): string {
    return this.credentials.serviceSystemName;
  }

  private async requestToken(now: () => number): Promise<{ token: string; expiresAt: number }> {
    const asked = now();
    const answer = await this.http.call({
      operation: 'oauth.token',
      method: 'POST',
      path: GOODFIN_PATHS.token,
      form: {
        grant_type: 'password',
        client_id: GOODFIN_OAUTH_CLIENT_ID,
        username: this.credentials.serviceSystemName,
        password: this.credentials.password,
      },
      // asking for a token twice does no harm
      idempotent: true,
      parse: (response) => parseAnswer(this.http, tokenSchema, response.data, 'oauth.token', response.status),
    });
    // the sooner of what the answer says and the JWT's own exp
    const byLifetime = asked + answer.expires_in * 1000;
    const exp = jwtExpiry(answer.access_token);
    return { token: answer.access_token, expiresAt: exp === null ? byLifetime : Math.min(byLifetime, exp * 1000) };
  }

  /** A POST of JSON with the bearer token; a 401 renews the token once and repeats. */
  private authed<T>(
    operation: string,
    path: string,
    body: unknown,
    options: { idempotent: boolean; context?: CallContext; parse?: (data: unknown) => T },
  ): Promise<T> {
    return this.session.run(
      (token) =>
        this.http.call({
          operation,
          method: 'POST',
          path,
          json: body,
          headers: { Authorization: `Bearer ${token}` },
          secrets: [token],
          idempotent: options.idempotent,
          context: options.context,
          parse: (response) => (options.parse ? options.parse(response.data) : (undefined as T)),
        }),
      (error) => error.status === 401,
    );
  }

  /** Obtains a token (the connection test). */
  async signIn(): Promise<void> {
    await this.session.obtain();
  }

  /** Tells Goodfin where to push messages and which header secret to send with them. */
  declareEndpoint(declaration: EndpointDeclaration, context?: CallContext): Promise<void> {
    return this.authed('integrationendpoint.update', GOODFIN_PATHS.integrationEndpoint, endpointDeclarationSchema.parse(declaration), {
      idempotent: true,
      context,
    });
  }

  /** Declares our status model. */
  declareStatuses(mapping: StatusMapping, context?: CallContext): Promise<void> {
    return this.authed('statusmapping.update', GOODFIN_PATHS.statusMapping, statusMappingSchema.parse(mapping), {
      idempotent: true,
      context,
    });
  }

  /** Declares our error codes. */
  declareErrors(mapping: ErrorMapping, context?: CallContext): Promise<void> {
    return this.authed('errormapping.update', GOODFIN_PATHS.errorMapping, errorMappingSchema.parse(mapping), { idempotent: true, context });
  }

  /**
   * Sends one message to Goodfin. It is not repeated by the pipeline: the
   * caller's outbox retries it with the same msgId.
   */
  send(envelope: GoodfinEnvelope, context?: CallContext): Promise<void> {
    return this.authed(`send.${envelope.payloadType}`, GOODFIN_PATHS.inbound, envelopeSchema.parse(envelope), {
      idempotent: false,
      context,
    });
  }

  /**
   * Sandbox only: asks Goodfin to push test applications to the declared
   * endpoint. Not repeated: each call makes new applications.
   */
  generateDeals(options: z.input<typeof generateDealsRequestSchema> = {}, context?: CallContext): Promise<GeneratedDeals> {
    return this.authed('sandbox.generatedeals', GOODFIN_PATHS.generateDeals, options, {
      idempotent: false,
      context,
      parse: (data) => parseAnswer(this.http, generatedDealsSchema, data, 'sandbox.generatedeals'),
    });
  }

  /** The bytes of a document attached to an application. */
  /**
   * A document's bytes. `downloaddocumentfile` is the integration guide's path; seed 002 names
   * `getdocumentfile`, so a 404 from the first is asked of the second before the document is missing.
   */
  async downloadDocument(documentId: string, context?: CallContext): Promise<Buffer> {
    try {
      return await this.fetchDocument(GOODFIN_PATHS.downloadDocument, documentId, context);
    } catch (error) {
      if (!(error instanceof ConnectorError && error.status === 404)) throw error;
      return this.fetchDocument(GOODFIN_PATHS.getDocumentFile, documentId, context);
    }
  }

  private fetchDocument(path: string, documentId: string, context?: CallContext): Promise<Buffer> {
    return this.session.run(
      (token) =>
        this.http.call({
          operation: 'document.download',
          method: 'GET',
          path,
          query: { documentId },
          headers: { Authorization: `Bearer ${token}` },
          secrets: [token],
          binary: true,
          context,
          parse: (response) => {
            if (!Buffer.isBuffer(response.data) || response.data.length === 0)
              throw this.http.error(KIT_ERROR_CODES.badResponse, `goodfin document ${documentId}: empty answer`, {
                status: response.status,
              });
            return response.data;
          },
        }),
      (error) => error.status === 401,
    );
  }
}
