// Sends metrics to a real otelbox with the real OpenTelemetry JS SDK over OTLP/gRPC,
// OTLP/HTTP protobuf and OTLP/HTTP JSON, then reads them back through the Prometheus API
// and checks the names and labels the OTLP→Prometheus translation must produce.
// Usage: node run_metrics.mjs /path/to/otelbox
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import assert from 'node:assert/strict';
import { metrics } from '@opentelemetry/api';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';

const binary = process.argv[2];
assert.ok(binary, 'usage: node run_metrics.mjs /path/to/otelbox');

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

async function sendWith(protocol, exporter) {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': `otel-js-${protocol}`,
      'service.namespace': 'ci',
      'service.instance.id': 'instance-1',
      'deployment.environment': 'test',
    }),
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3600000 })],
  });
  const meter = provider.getMeter('otelbox-test', '1.0.0');
  const requests = meter.createCounter('http.server.requests', { unit: '{request}', description: 'Requests served.' });
  const duration = meter.createHistogram('http.server.request.duration', { unit: 's', description: 'Request latency.' });
  const queue = meter.createUpDownCounter('queue.size', { description: 'Items waiting.' });
  const utilization = meter.createObservableGauge('system.cpu.utilization', { unit: '1' });
  utilization.addCallback((result) => result.observe(0.25, { 'cpu.mode': 'user' }));
  for (let i = 0; i < 5; i++) {
    requests.add(1, { 'http.request.method': 'GET', 'http.response.status_code': 200 });
    duration.record(0.02 * (i + 1), { 'http.request.method': 'GET' });
  }
  queue.add(7);
  await provider.forceFlush(); // rejects when the export fails
  await provider.shutdown();
}

async function promGet(http, path) {
  const res = await fetch(`http://${http}${path}`);
  const body = await res.json();
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(body)}`);
  assert.equal(body.status, 'success');
  return body.data;
}

const otelbox = await startOtelbox();
let failed = false;
try {
  const cases = [
    ['grpc', new GrpcExporter({ url: `http://${otelbox['otlp-grpc']}` })],
    ['proto', new ProtoExporter({ url: `http://${otelbox['otlp-http']}/v1/metrics` })],
    // JSON goes to the main HTTP port, which serves the OTLP/HTTP paths too.
    ['json', new JsonExporter({ url: `http://${otelbox.http}/v1/metrics` })],
  ];
  for (const [protocol, exporter] of cases) {
    await sendWith(protocol, exporter);
    const job = `ci/otel-js-${protocol}`;
    const series = await promGet(otelbox.http,
      `/api/v1/series?match[]=${encodeURIComponent(`{job="${job}"}`)}`);
    const names = new Set(series.map((s) => s.__name__));
    for (const want of ['http_server_requests_total', 'http_server_request_duration_seconds_bucket',
      'http_server_request_duration_seconds_sum', 'http_server_request_duration_seconds_count',
      'queue_size', 'system_cpu_utilization_ratio', 'target_info']) {
      assert.ok(names.has(want), `${protocol}: missing ${want}; got ${[...names].join(', ')}`);
    }
    const counter = series.find((s) => s.__name__ === 'http_server_requests_total');
    assert.equal(counter.instance, 'instance-1');
    assert.equal(counter.http_request_method, 'GET');
    assert.equal(counter.http_response_status_code, '200');
    const info = series.find((s) => s.__name__ === 'target_info');
    assert.equal(info.deployment_environment, 'test');
    const les = series.filter((s) => s.__name__ === 'http_server_request_duration_seconds_bucket')
      .map((s) => s.le);
    assert.ok(les.includes('+Inf'), `${protocol}: no le="+Inf" bucket`);

    const vector = await promGet(otelbox.http,
      `/api/v1/query?query=${encodeURIComponent(`http_server_requests_total{job="${job}"}`)}`);
    assert.equal(vector.resultType, 'vector');
    assert.equal(vector.result.length, 1);
    assert.equal(vector.result[0].value[1], '5', `${protocol}: counter value`);
    const count = await promGet(otelbox.http,
      `/api/v1/query?query=${encodeURIComponent(`http_server_request_duration_seconds_count{job="${job}"}`)}`);
    assert.equal(count.result[0].value[1], '5');
    console.log(`ok - OpenTelemetry JS SDK over ${protocol}: ${series.length} series read back`);
  }
  const labels = await promGet(otelbox.http, '/api/v1/labels');
  for (const want of ['__name__', 'job', 'instance', 'le', 'http_request_method']) {
    assert.ok(labels.includes(want), `labels: missing ${want}`);
  }
  console.log('ok - /api/v1/labels lists the translated label names');
} catch (err) {
  failed = true;
  console.error(`not ok - ${err.stack || err}`);
} finally {
  otelbox.child.removeAllListeners('exit');
  otelbox.child.kill('SIGTERM');
}
process.exit(failed ? 1 : 0);
