// Sends logs to a real otelbox with the real OpenTelemetry JS logs SDK over OTLP/gRPC,
// OTLP/HTTP protobuf and OTLP/HTTP JSON (Loki's /otlp/v1/logs alias), and with winston-loki
// (snappy-compressed protobuf to /loki/api/v1/push), then reads them back through Loki's
// query_range with categorized labels and checks stream labels, structured metadata and
// order as Loki's OTLP mapping produces them (contracts/otlp-to-prometheus.md §B).
// Usage: node run_logs.mjs /path/to/otelbox
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPLogExporter as GrpcExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import winston from 'winston';
import LokiTransport from 'winston-loki';

const require = createRequire(import.meta.url);
const binary = process.argv[2];
assert.ok(binary, 'usage: node run_logs.mjs /path/to/otelbox');
// winston-loki silently falls back to JSON without the snappy binding: make sure it is there,
// so that the protobuf path is what gets tested.
assert.equal(typeof require('snappy').compressSync, 'function', 'snappy binding missing');

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

function startOtelbox() {
  const child = spawn(binary, ['--ephemeral', '--listen', '127.0.0.1:0',
    '--otlp-grpc-listen', '127.0.0.1:0', '--otlp-http-listen', '127.0.0.1:0'],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('otelbox not ready in 20s')), 20000);
    child.on('exit', (code) => reject(new Error(`otelbox exited early with ${code}`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      const fields = Object.fromEntries(line.split(' ').slice(2).map((kv) => kv.split('=')));
      resolve({ child, ...fields });
    });
  });
}

async function sendWithSdk(protocol, exporter) {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({
      'service.name': `otel-js-logs-${protocol}`,
      'k8s.namespace.name': 'ci',
      'host.name': 'runner-1',
    }),
    processors: [new SimpleLogRecordProcessor(exporter)],
  });
  const logger = provider.getLogger('otelbox-logs-test', '2.0.0');
  const spanContext = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED };
  const ctx = trace.setSpanContext(context.active(), spanContext);
  const base = Date.now() - 3000;
  const records = [
    { severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'order received', t: base },
    { severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'payment slow', t: base + 1000, ctx },
    { severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: { msg: 'payment failed', code: 502 }, t: base + 2000 },
  ];
  for (const r of records) {
    logger.emit({
      severityNumber: r.severityNumber,
      severityText: r.severityText,
      body: r.body,
      timestamp: new Date(r.t), // a Date: plain numbers are read as performance-relative
      attributes: { 'http.route': '/pay', 'user.id': 'u-42' },
      context: r.ctx,
    });
  }
  await provider.forceFlush(); // rejects when an export fails
  await provider.shutdown();
}

async function lokiGet(http, path, categorize = true) {
  const res = await fetch(`http://${http}${path}`, {
    headers: categorize ? { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' } : {},
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text}`);
  const body = JSON.parse(text);
  assert.equal(body.status, 'success');
  return body.data;
}

function rangeQuery(selector, direction) {
  const end = BigInt(Date.now() + 60000) * 1000000n;
  const start = end - 3600n * 1000000000n;
  return `/loki/api/v1/query_range?direction=${direction}&limit=100&step=15000ms` +
    `&start=${start}&end=${end}&query=${encodeURIComponent(selector)}`;
}

async function checkSdkLogs(http, protocol) {
  const service = `otel-js-logs-${protocol}`;
  const data = await lokiGet(http, rangeQuery(`{service_name="${service}"}`, 'backward'));
  assert.equal(data.resultType, 'streams');
  assert.deepEqual(data.encodingFlags, ['categorize-labels']);
  assert.equal(data.result.length, 1, JSON.stringify(data.result));
  const stream = data.result[0];
  assert.deepEqual(stream.stream, { k8s_namespace_name: 'ci', service_name: service });
  const values = stream.values;
  assert.equal(values.length, 3);
  // Backward: newest first.
  assert.equal(values[0][1], '{"code":502,"msg":"payment failed"}', 'map body as JSON, sorted keys');
  assert.equal(values[1][1], 'payment slow');
  assert.equal(values[2][1], 'order received');
  assert.ok(BigInt(values[0][0]) > BigInt(values[1][0]));
  const warn = values[1][2].structuredMetadata;
  assert.equal(warn.severity_text, 'WARN');
  assert.equal(warn.severity_number, '13');
  assert.equal(warn.detected_level, 'warn');
  assert.equal(warn.trace_id, TRACE_ID);
  assert.equal(warn.span_id, SPAN_ID);
  assert.equal(warn.http_route, '/pay');
  assert.equal(warn.user_id, 'u-42');
  assert.equal(warn.host_name, 'runner-1', 'non-index resource attribute → metadata');
  assert.equal(warn.scope_name, 'otelbox-logs-test');
  assert.equal(warn.scope_version, '2.0.0');
  assert.equal(values[0][2].structuredMetadata.detected_level, 'error');
  assert.equal(values[2][2].structuredMetadata.trace_id, undefined);

  // Forward: oldest first; structured metadata is filterable, not a stream label.
  const fwd = await lokiGet(http, rangeQuery(`{service_name="${service}"} | detected_level="warn"`, 'forward'));
  assert.equal(fwd.result.length, 1);
  assert.deepEqual(fwd.result[0].values.map((v) => v[1]), ['payment slow']);
  const names = await lokiGet(http, '/loki/api/v1/labels');
  assert.ok(names.includes('service_name') && !names.includes('trace_id'), JSON.stringify(names));
}

async function sendWithWinston(http) {
  const transport = new LokiTransport({
    host: `http://${http}`,
    labels: { app: 'winston-test' },
    json: false, // snappy-compressed protobuf
    batching: true,
    interval: 0.2,
    onConnectionError: (err) => { throw err; },
  });
  const logger = winston.createLogger({ transports: [transport] });
  logger.info('order placed', { orderId: 42 });
  logger.error('order failed');
  await transport.flush();
  transport.close?.();
}

async function checkWinston(http) {
  const data = await lokiGet(http, rangeQuery('{app="winston-test"}', 'forward'));
  const byLevel = {};
  for (const s of data.result) {
    assert.equal(s.stream.app, 'winston-test');
    assert.equal(s.stream.service_name, 'winston-test', 'service_name discovered from app');
    for (const v of s.values) byLevel[s.stream.level] = { line: v[1], meta: v[2].structuredMetadata };
  }
  assert.deepEqual(Object.keys(byLevel).sort(), ['error', 'info'], JSON.stringify(data.result));
  assert.ok(byLevel.info.line.startsWith('order placed'), byLevel.info.line);
  assert.equal(byLevel.info.meta.detected_level, 'info');
  assert.equal(byLevel.error.meta.detected_level, 'error');
  // Plain encoding (Grafana 10.x): two-element values, metadata merged into the labels.
  const plain = await lokiGet(http, rangeQuery('{app="winston-test", level="error"}', 'backward'), false);
  assert.equal(plain.result.length, 1);
  assert.equal(plain.result[0].values[0].length, 2);
  assert.equal(plain.result[0].stream.detected_level, 'error');
}

const otelbox = await startOtelbox();
let failed = false;
try {
  const cases = [
    ['grpc', new GrpcExporter({ url: `http://${otelbox['otlp-grpc']}` })],
    ['proto', new ProtoExporter({ url: `http://${otelbox['otlp-http']}/v1/logs` })],
    // JSON to Loki's OTLP path on the main port.
    ['json', new JsonExporter({ url: `http://${otelbox.http}/otlp/v1/logs` })],
  ];
  for (const [protocol, exporter] of cases) {
    await sendWithSdk(protocol, exporter);
    await checkSdkLogs(otelbox.http, protocol);
    console.log(`ok ${protocol}`);
  }
  await sendWithWinston(otelbox.http);
  await checkWinston(otelbox.http);
  console.log('ok winston-loki (snappy protobuf)');
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  otelbox.child.kill('SIGTERM');
}
process.exit(failed ? 1 : 0);
