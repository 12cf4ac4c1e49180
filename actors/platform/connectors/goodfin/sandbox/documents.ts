import type { SandboxRequest, SandboxResponse, SandboxRoute } from '../../kit/sandbox.ts';
import { GOODFIN_PATHS } from '../protocol.ts';
import { refused, type SandboxTokens } from './oauth.ts';

/** A one-page PDF, so that a downloaded document is a real file. */
export function samplePdf(title: string): Buffer {
  const content = `BT /F1 18 Tf 72 770 Td (${title.replace(/[()\\]/g, '')}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(Buffer.byteLength(body));
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body);
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

/** The documents a signed-in service can download: a sample one, and those listed in every generated deal. */
export class SandboxDocuments {
  private readonly files = new Map<string, Buffer>();

  constructor(private readonly tokens: SandboxTokens) {}

  /** only the sample document is left */
  reset(): void {
    this.files.clear();
    this.add('doc-sample-0001', samplePdf('Goodfin sandbox document'));
  }

  add(documentId: string, content: Buffer): void {
    this.files.set(documentId, content);
  }

  /** the download, under both of its names */
  routes(): SandboxRoute[] {
    const download = (request: SandboxRequest) => this.download(request);
    return [
      { method: 'GET', path: GOODFIN_PATHS.downloadDocument, handle: download },
      { method: 'GET', path: GOODFIN_PATHS.getDocumentFile, handle: download },
    ];
  }

  private download(request: SandboxRequest): SandboxResponse {
    const service = this.tokens.authorise(request);
    if (refused(service)) return service;
    const content = this.files.get(request.query.get('documentId') ?? '');
    if (!content) return { status: 404, json: { error: 'not_found', error_description: 'document not found' } };
    return { headers: { 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename="document.pdf"' }, body: content };
  }
}
