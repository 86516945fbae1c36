import { Router } from 'express';
import { ERROR_STATUS } from '@mm/contract';

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: unknown;
  responses?: Record<string, { description?: string }>;
}
interface Document {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, Operation> | undefined>;
}

/** `GET /api/openapi.json` and a small self-contained page that reads the same document. */
export function docsRoutes(document: object): Router {
  const page = renderDocs(document as Document);
  return Router()
    .get('/api/openapi.json', (_req, res) => {
      res.json(document);
    })
    .get('/api/docs', (_req, res) => {
      res.type('html').send(page);
    });
}

const escape = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

function renderDocs(document: Document): string {
  const rows: string[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const [method, op] of Object.entries(item ?? {})) {
      const params = (op.parameters ?? [])
        .map((p) => `${p.name} <small>(${p.in}${p.required ? '' : ', optional'})</small>`)
        .join('<br>');
      const responses = Object.entries(op.responses ?? {})
        .map(([status, r]) => `<b>${status}</b> ${escape(r.description ?? '')}`)
        .join('<br>');
      rows.push(
        `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escape(path)}</code></td>` +
          `<td>${escape(op.summary ?? '')}${op.security ? ' 🔒' : ''}` +
          `${op.description ? `<br><small>${escape(op.description)}</small>` : ''}</td>` +
          `<td>${params}${op.requestBody ? `${params ? '<br>' : ''}JSON body` : ''}</td>` +
          `<td>${responses}</td></tr>`,
      );
    }
  }
  const codes = Object.entries(ERROR_STATUS)
    .map(([code, status]) => `<tr><td><code>${code}</code></td><td>${status}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(document.info.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;width:100%;margin-bottom:2em}
td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}code{white-space:nowrap}</style></head>
<body><h1>${escape(document.info.title)} <small>${escape(document.info.version)}</small></h1>
<p>${escape(document.info.description ?? '')}</p>
<p>The machine-readable document: <a href="/api/openapi.json">/api/openapi.json</a>. 🔒 needs
<code>Authorization: Bearer &lt;token&gt;</code>. Every error is
<code>{"error": {"code", "message", "details"}}</code>.</p>
<h2>Endpoints</h2>
<table><tr><th>method</th><th>path</th><th>what</th><th>input</th><th>responses</th></tr>${rows.join('\n')}</table>
<h2>Error codes</h2><table><tr><th>code</th><th>HTTP status</th></tr>${codes}</table>
</body></html>`;
}
