// Sends traces to a real otelbox with the real OpenTelemetry JS SDK over OTLP/gRPC,
// OTLP/HTTP protobuf, OTLP/HTTP JSON and Zipkin v2 JSON, then reads them back through the
// Tempo API the way Grafana does: trace by id (JSON and protobuf, v1 and v2), TraceQL search
// (intrinsics, resource and span attributes, a structural operator, an aggregate), tag and
// tag-value autocomplete, and TraceQL metrics.
// Usage: node run_traces.mjs /path/to/otelbox
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import assert from 'node:assert/strict';
import { trace, ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';

const binary = process.argv[2];
assert.ok(binary, 'usage: node run_traces.mjs /path/to/otelbox');

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

// One trace: a server root, a failing client child with an event, and a linked span.
async function sendTrace(protocol, exporter) {
  const service = `otel-js-traces-${protocol}`;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'ci' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('otelbox-test', '1.2.3');
  const other = tracer.startSpan('background-job', { kind: SpanKind.INTERNAL });
  other.end();
  const root = tracer.startSpan('GET /checkout', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET', 'http.status_code': 200, 'cart.ratio': 0.5,
      'user.premium': true, 'cart.items': ['book', 'pen'],
    },
    links: [{ context: other.spanContext(), attributes: { 'link.reason': 'follows' } }],
  });
  const child = tracer.startSpan('SELECT orders', {
    kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'db.rows': 3 },
  }, trace.setSpan(ROOT_CONTEXT, root));
  child.addEvent('cache.miss', { 'cache.key': 'orders:42' });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'db down' });
  await new Promise((r) => setTimeout(r, 5));
  child.end();
  root.end();
  await provider.forceFlush(); // rejects when the export fails
  await provider.shutdown();
  return { service, traceId: root.spanContext().traceId, rootSpanId: root.spanContext().spanId,
    childSpanId: child.spanContext().spanId };
}

async function get(http, path, headers = {}) {
  return fetch(`http://${http}${path}`, { headers });
}
async function getJson(http, path) {
  const res = await get(http, path, { Accept: 'application/json' });
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

function b64hex(b64) { return Buffer.from(b64, 'base64').toString('hex'); }
function allSpans(resourceSpans) {
  return resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, rs, ss }))));
}
function attr(span, key) {
  const kv = (span.attributes || []).find((a) => a.key === key);
  return kv ? kv.value : undefined;
}
const q = (s) => encodeURIComponent(s);

const otelbox = await startOtelbox();
let failed = false;
try {
  const start = Math.floor(Date.now() / 1000) - 60;
  const cases = [
    ['grpc', new GrpcExporter({ url: `http://${otelbox['otlp-grpc']}` })],
    ['proto', new ProtoExporter({ url: `http://${otelbox['otlp-http']}/v1/traces` })],
    // JSON and Zipkin go to the main HTTP port, which serves the ingest paths too.
    ['json', new JsonExporter({ url: `http://${otelbox.http}/v1/traces` })],
    ['zipkin', new ZipkinExporter({ url: `http://${otelbox.http}/api/v2/spans` })],
  ];
  const sent = {};
  for (const [protocol, exporter] of cases) sent[protocol] = await sendTrace(protocol, exporter);
  const end = Math.floor(Date.now() / 1000) + 60;
  const range = `start=${start}&end=${end}`;

  for (const [protocol] of cases) {
    const { service, traceId, rootSpanId, childSpanId } = sent[protocol];
    // v2 JSON by id.
    const v2 = await getJson(otelbox.http, `/api/v2/traces/${traceId}`);
    assert.equal(v2.status, 'COMPLETE');
    const spans = allSpans(v2.trace.resourceSpans);
    assert.equal(spans.length, 2, `${protocol}: spans of the trace`);
    const root = spans.find((s) => b64hex(s.spanId) === rootSpanId);
    const child = spans.find((s) => b64hex(s.spanId) === childSpanId);
    assert.ok(root && child, `${protocol}: root and child by span id`);
    assert.equal(b64hex(root.traceId), traceId);
    assert.equal(b64hex(child.parentSpanId), rootSpanId);
    assert.equal(root.name, 'GET /checkout');
    assert.equal(root.kind, 'SPAN_KIND_SERVER');
    assert.equal(child.kind, 'SPAN_KIND_CLIENT');
    assert.equal(child.status.code, 'STATUS_CODE_ERROR');
    const svc = root.rs.resource.attributes.find((a) => a.key === 'service.name');
    assert.equal(svc.value.stringValue, service);
    assert.equal(child.events[0].name, 'cache.miss');
    if (protocol === 'zipkin') {
      // Zipkin carries tags as strings and no links.
      assert.equal(attr(root, 'http.status_code').stringValue, '200');
      assert.equal(attr(child, 'db.system').stringValue, 'postgresql');
    } else {
      assert.equal(attr(root, 'http.status_code').intValue, '200');
      assert.equal(attr(root, 'cart.ratio').doubleValue, 0.5);
      assert.equal(attr(root, 'user.premium').boolValue, true);
      assert.deepEqual(attr(root, 'cart.items').arrayValue.values.map((v) => v.stringValue), ['book', 'pen']);
      assert.equal(child.status.message, 'db down');
      assert.equal(child.events[0].attributes[0].value.stringValue, 'orders:42');
      assert.equal(root.links.length, 1);
      assert.equal(root.links[0].attributes[0].key, 'link.reason');
      assert.equal(root.ss.scope.name, 'otelbox-test');
      assert.equal(root.ss.scope.version, '1.2.3');
    }
    // Protobuf by id, as Grafana asks (v2 TraceByIDResponse, v1 Trace): both carry the raw
    // 16-byte trace id and the span names.
    for (const path of [`/api/v2/traces/${traceId}`, `/api/traces/${traceId}`]) {
      const res = await get(otelbox.http, path, { Accept: 'application/protobuf' });
      assert.equal(res.status, 200, `${protocol} ${path}`);
      assert.match(res.headers.get('content-type'), /application\/protobuf/);
      const body = Buffer.from(await res.arrayBuffer());
      assert.ok(body.includes(Buffer.from(traceId, 'hex')), `${protocol} ${path}: trace id bytes`);
      assert.ok(body.includes(Buffer.from('SELECT orders')), `${protocol} ${path}: span name`);
    }
    // v2 wraps the trace in field 1; v1 starts with ResourceSpans (field 1 as well) but the
    // v2 body is the v1 body plus the wrapper.
    const v1b = Buffer.from(await (await get(otelbox.http, `/api/traces/${traceId}`, { Accept: 'application/protobuf' })).arrayBuffer());
    const v2b = Buffer.from(await (await get(otelbox.http, `/api/v2/traces/${traceId}`, { Accept: 'application/protobuf' })).arrayBuffer());
    assert.ok(v2b.length > v1b.length && v2b.subarray(v2b.length - v1b.length).equals(v1b), `${protocol}: v2 wraps v1`);

    // TraceQL: resource attribute, intrinsics, span attribute, structural, aggregate.
    const searches = [
      `{ resource.service.name = "${service}" }`,
      `{ resource.service.name = "${service}" && name = "SELECT orders" && status = error && kind = client }`,
      `{ resource.service.name = "${service}" && span.db.system = "postgresql" && duration > 1ms }`,
      `{ resource.service.name = "${service}" && name = "GET /checkout" } > { name = "SELECT orders" }`,
      `{ resource.service.name = "${service}" } | count() = 2`,
    ];
    if (protocol !== 'zipkin') searches.push(`{ resource.service.name = "${service}" && span.http.status_code = 200 }`);
    for (const query of searches) {
      const res = await getJson(otelbox.http, `/api/search?q=${q(query)}&limit=20&spss=3&${range}`);
      const hit = res.traces.find((t) => t.traceID.padStart(32, '0') === traceId);
      assert.ok(hit, `${protocol}: ${query} did not find ${traceId}: ${JSON.stringify(res)}`);
      assert.equal(typeof hit.startTimeUnixNano, 'string');
      assert.equal(hit.rootServiceName, service);
      assert.equal(hit.rootTraceName, 'GET /checkout');
      const sset = hit.spanSets[0];
      assert.equal(typeof sset.spans[0].durationNanos, 'string');
    }
    // A query that must not match this trace.
    const none = await getJson(otelbox.http,
      `/api/search?q=${q(`{ resource.service.name = "${service}" && name = "no such span" }`)}&${range}`);
    assert.equal(none.traces.length, 0);
    console.log(`ok - OpenTelemetry JS SDK over ${protocol}: trace ${traceId} read back and found`);
  }

  // Unknown trace: 404 on v2 and v1 (Grafana falls back from v2 to v1 on 404).
  for (const path of ['/api/v2/traces/00000000000000000000000000000001', '/api/traces/1']) {
    const res = await get(otelbox.http, path, { Accept: 'application/protobuf' });
    assert.equal(res.status, 404, path);
  }
  // Health, build info.
  const echo = await get(otelbox.http, '/api/echo');
  assert.equal(echo.status, 200);
  assert.equal(await echo.text(), 'echo');
  const bi = await getJson(otelbox.http, '/api/status/buildinfo');
  assert.match(bi.version, /^\d+\.\d+\.\d+/);

  // Autocomplete.
  const tags = await getJson(otelbox.http, '/api/v2/search/tags?limit=5000&tag=ignored');
  const scope = (n) => tags.scopes.find((s) => s.name === n).tags;
  assert.ok(scope('resource').includes('service.name'));
  assert.ok(scope('span').includes('http.request.method'));
  assert.ok(scope('intrinsic').includes('status'));
  assert.ok(scope('event').includes('cache.key'));
  const svcValues = await getJson(otelbox.http, '/api/v2/search/tag/resource.service.name/values?limit=5000');
  for (const p of ['grpc', 'proto', 'json', 'zipkin']) {
    assert.ok(svcValues.tagValues.some((v) => v.type === 'string' && v.value === `otel-js-traces-${p}`), p);
  }
  const filtered = await getJson(otelbox.http,
    `/api/v2/search/tag/resource.service.name/values?q=${q('{resource.service.name="otel-js-traces-grpc"}')}`);
  assert.deepEqual(filtered.tagValues.map((v) => v.value), ['otel-js-traces-grpc']);
  // Half-typed q: the unfiltered list, not an error.
  const halfTyped = await getJson(otelbox.http, `/api/v2/search/tag/resource.service.name/values?q=${q('{resource.service.name=')}`);
  assert.ok(halfTyped.tagValues.length >= 4);
  const codes = await getJson(otelbox.http, '/api/v2/search/tag/span.http.status_code/values');
  assert.ok(codes.tagValues.some((v) => v.type === 'int' && v.value === '200'), JSON.stringify(codes));
  const status = await getJson(otelbox.http, '/api/v2/search/tag/status/values');
  assert.deepEqual(status.tagValues.map((v) => `${v.type}:${v.value}`).sort(),
    ['keyword:error', 'keyword:ok', 'keyword:unset']);
  const v1tags = await getJson(otelbox.http, '/api/search/tags');
  assert.ok(v1tags.tagNames.includes('service.name'));
  const v1values = await getJson(otelbox.http, '/api/search/tag/service.name/values');
  assert.ok(v1values.tagValues.includes('otel-js-traces-json'));
  console.log('ok - tag names and typed tag values');

  // TraceQL metrics, both parameter spellings.
  for (const param of ['q', 'query']) {
    const m = await getJson(otelbox.http,
      `/api/metrics/query_range?${param}=${q('{ } | rate() by (resource.service.name)')}&${range}&step=60s`);
    const names = m.series.map((s) => s.labels[0].value.stringValue);
    for (const p of ['grpc', 'proto', 'json', 'zipkin']) assert.ok(names.includes(`otel-js-traces-${p}`), `${param}: ${names}`);
    assert.equal(typeof m.series[0].samples[0].timestampMs, 'string');
  }
  const instant = await getJson(otelbox.http, `/api/metrics/query?q=${q('{ status = error } | count_over_time()')}&${range}`);
  assert.ok(instant.series.length >= 1);
  assert.deepEqual(Object.keys(instant.series[0]).sort(), ['labels', 'value']);
  console.log('ok - TraceQL metrics (range, instant)');

  // Bad requests get Tempo's errors.
  let res = await get(otelbox.http, `/api/search?q=${q('{')}`);
  assert.equal(res.status, 400);
  assert.match(await res.text(), /parse error/);
  res = await get(otelbox.http, '/api/traces/not-hex');
  assert.equal(res.status, 400);
  res = await get(otelbox.http, '/api/search?limit=abc');
  assert.equal(res.status, 400);
  res = await fetch(`http://${otelbox.http}/v1/traces`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"resourceSpans":[{' });
  assert.equal(res.status, 400);
  res = await fetch(`http://${otelbox.http}/api/v2/spans`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '[{"traceId":"zz","id":"1"}]' });
  assert.equal(res.status, 400);
  console.log('ok - malformed queries and pushes are refused with 400');
} catch (err) {
  failed = true;
  console.error(`not ok - ${err.stack || err}`);
} finally {
  otelbox.child.removeAllListeners('exit');
  otelbox.child.kill('SIGTERM');
}
process.exit(failed ? 1 : 0);
