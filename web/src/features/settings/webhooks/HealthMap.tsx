// The integration health map (集成健康图): Rapport in the middle and every connection around it —
// webhook endpoints and connectors (email, SMS, chat robots, HTTP / ERP) — each coloured by how
// it is doing now (healthy, failing, breaker open or probing, switched off), with its messages
// per minute, p95 latency and what waits for it; the tables below give every figure (p50/p95,
// failure rate, queues, last error). Clicking an endpoint opens its delivery log, a connector
// its page. Refreshed every few seconds.
import { Empty, Segmented, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useI18n, type MessageKey } from '../../../i18n/I18nProvider';
import { PageError, PageLoading } from '../../../app/PageState';
import { DeliveriesDrawer } from './DeliveriesDrawer';
import { useHealth, type EndpointHealth } from './api';
import type { components } from '../../../api/schema';
import { kindLabel } from '../connectors/model';

type ConnectorHealth = components['schemas']['ConnectorHealth'];

type Status = 'healthy' | 'failing' | 'open' | 'half_open' | 'disabled';

const COLOR: Record<Status, string> = { healthy: '#52c41a', failing: '#faad14', open: '#ff4d4f', half_open: '#fa8c16', disabled: '#bfbfbf' };
const TAG_COLOR: Record<Status, string> = { healthy: 'green', failing: 'gold', open: 'red', half_open: 'orange', disabled: 'default' };
function status(e: EndpointHealth): Status {
  if (!e.enabled) return 'disabled';
  if (e.breaker_state === 'open') return 'open';
  if (e.breaker_state === 'half_open') return 'half_open';
  return e.failing_since ? 'failing' : 'healthy';
}

function connectorStatus(c: ConnectorHealth): Status {
  if (!c.enabled) return 'disabled';
  if (c.breaker_open_until && new Date(c.breaker_open_until).getTime() > Date.now()) return 'open';
  return c.last_error ? 'failing' : 'healthy';
}

/** A node of the map: an endpoint or a connector, drawn alike. */
interface Node {
  id: string;
  name: string;
  status: Status;
  waiting: number;
  perMinute: number;
  p95: number | null | undefined;
  open: () => void;
}

/** What a destination is called on the map: its description, else its host. */
function nameOf(e: EndpointHealth): string {
  if (e.description.trim()) return e.description.trim();
  try {
    return new URL(e.url).host;
  } catch {
    return e.url;
  }
}

const WIDTH = 800;
const HEIGHT = 440;

export default function HealthMap() {
  const i18n = useI18n();
  const { t } = i18n;
  const [windowMinutes, setWindowMinutes] = useState(60);
  const health = useHealth(windowMinutes);
  const [open, setOpen] = useState<EndpointHealth | null>(null);
  const navigate = useNavigate();

  const perMinute = (e: EndpointHealth) => t('health.perMinute', { n: i18n.number(Math.round(e.delivered_per_minute * 10) / 10) });
  const ms = (v: number | null | undefined) => (v == null ? '—' : t('health.ms', { n: i18n.number(v) }));
  const percent = (v: number | null | undefined) => (v == null ? '—' : `${i18n.number(Math.round(v * 1000) / 10)}%`);

  const body = () => {
    if (health.isPending) return <PageLoading />;
    if (health.error) return <PageError error={health.error} onRetry={() => health.refetch()} />;
    const endpoints = health.data.endpoints;
    const connectors = health.data.connectors;
    if (endpoints.length === 0 && connectors.length === 0) {
      return (
        <Empty description={t('health.empty')} data-testid="health-empty">
          <Link to="/settings/webhooks">{t('health.addEndpoint')}</Link>
        </Empty>
      );
    }
    const cx = WIDTH / 2;
    const cy = HEIGHT / 2;
    const nodes: Node[] = [
      ...endpoints.map((e) => ({
        id: e.id,
        name: nameOf(e),
        status: status(e),
        waiting: e.parked + e.queued + e.waiting,
        perMinute: e.delivered_per_minute,
        p95: e.latency_p95_ms,
        open: () => setOpen(e),
      })),
      ...connectors.map((c) => ({
        id: c.id,
        name: `${c.name} · ${kindLabel(t, c.kind)}`,
        status: connectorStatus(c),
        waiting: c.queued,
        perMinute: c.sent_per_minute,
        p95: c.latency_p95_ms,
        open: () => navigate('/settings/connectors'),
      })),
    ];
    const placed = nodes.map((n, i) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / nodes.length;
      return { n, x: cx + Math.cos(angle) * 300, y: cy + Math.sin(angle) * 160 };
    });
    const rate = (perMinute: number) => t('health.perMinute', { n: i18n.number(Math.round(perMinute * 10) / 10) });
    return (
      <>
        <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%" role="img" aria-label={t('health.title')} data-testid="health-map" style={{ maxHeight: 480 }}>
          {placed.map(({ n, x, y }) => (
            <line key={`edge-${n.id}`} x1={cx} y1={cy} x2={x} y2={y} stroke={COLOR[n.status]} strokeWidth={n.perMinute > 0 ? 4 : 2} strokeDasharray={n.status === 'open' ? '8 6' : undefined} />
          ))}
          <circle cx={cx} cy={cy} r={46} fill="#1677ff" />
          <text x={cx} y={cy + 5} textAnchor="middle" fill="#fff" fontSize={16} fontWeight={600}>
            Rapport
          </text>
          {placed.map(({ n, x, y }) => (
            <g
              key={n.id}
              role="button"
              tabIndex={0}
              aria-label={n.name}
              data-testid="health-node"
              data-status={n.status}
              style={{ cursor: 'pointer' }}
              onClick={n.open}
              onKeyDown={(event) => {
                if (event.key === 'Enter' || event.key === ' ') n.open();
              }}
            >
              <circle cx={x} cy={y} r={30} fill="#fff" stroke={COLOR[n.status]} strokeWidth={5} />
              <text x={x} y={y + 5} textAnchor="middle" fontSize={13} fontWeight={600} fill={COLOR[n.status]}>
                {n.waiting > 0 ? i18n.number(n.waiting) : '✓'}
              </text>
              <text x={x} y={y + 48} textAnchor="middle" fontSize={13} fill="#262626">
                {n.name.slice(0, 28)}
              </text>
              <text x={x} y={y + 64} textAnchor="middle" fontSize={11} fill="#8c8c8c">
                {`${rate(n.perMinute)} · p95 ${ms(n.p95)}`}
              </text>
            </g>
          ))}
        </svg>
        <Typography.Paragraph type="secondary">{t('health.hint')}</Typography.Paragraph>
        <Table<EndpointHealth>
          rowKey="id"
          size="small"
          pagination={false}
          scroll={{ x: 'max-content' }}
          data-testid="health-table"
          dataSource={endpoints}
          onRow={(e) => ({ onClick: () => setOpen(e), style: { cursor: 'pointer' } })}
          columns={[
            {
              key: 'name',
              title: t('health.destination'),
              render: (_, e) => (
                <Space orientation="vertical" size={0}>
                  <Typography.Text strong>{nameOf(e)}</Typography.Text>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {e.url}
                  </Typography.Text>
                </Space>
              ),
            },
            {
              key: 'status',
              title: t('health.status'),
              render: (_, e) => (
                <Tag color={TAG_COLOR[status(e)]} data-testid="health-status">
                  {t(`health.status.${status(e)}` as MessageKey)}
                </Tag>
              ),
            },
            { key: 'rate', title: t('health.delivered'), render: (_, e) => perMinute(e) },
            { key: 'latency', title: t('health.latency'), render: (_, e) => `${ms(e.latency_p50_ms)} / ${ms(e.latency_p95_ms)}` },
            { key: 'failures', title: t('health.failureRate'), render: (_, e) => percent(e.failure_rate) },
            {
              key: 'queue',
              title: t('health.queue'),
              render: (_, e) => (
                <span data-testid="health-queue">{t('health.queueParts', { queued: i18n.number(e.queued), parked: i18n.number(e.parked), waiting: i18n.number(e.waiting) })}</span>
              ),
            },
            {
              key: 'error',
              title: t('health.lastError'),
              render: (_, e) =>
                e.last_error ? (
                  <Typography.Text type="danger" style={{ fontSize: 12 }} ellipsis={{ tooltip: e.last_error }}>
                    {e.last_error_at ? `${i18n.dateTime(e.last_error_at)} · ` : ''}
                    {e.last_error}
                  </Typography.Text>
                ) : (
                  '—'
                ),
            },
          ]}
        />
        {connectors.length > 0 && (
          <Table<ConnectorHealth>
            rowKey="id"
            size="small"
            pagination={false}
            scroll={{ x: 'max-content' }}
            style={{ marginTop: 16 }}
            data-testid="health-connectors"
            dataSource={connectors}
            onRow={() => ({ onClick: () => navigate('/settings/connectors'), style: { cursor: 'pointer' } })}
            columns={[
              {
                key: 'name',
                title: t('health.connector'),
                render: (_, c) => (
                  <Space orientation="vertical" size={0}>
                    <Typography.Text strong>{c.name}</Typography.Text>
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {kindLabel(t, c.kind)}
                    </Typography.Text>
                  </Space>
                ),
              },
              {
                key: 'status',
                title: t('health.status'),
                render: (_, c) => <Tag color={TAG_COLOR[connectorStatus(c)]}>{t(`health.status.${connectorStatus(c)}` as MessageKey)}</Tag>,
              },
              { key: 'rate', title: t('health.sent'), render: (_, c) => rate(c.sent_per_minute) },
              { key: 'latency', title: t('health.latency'), render: (_, c) => `${ms(c.latency_p50_ms)} / ${ms(c.latency_p95_ms)}` },
              { key: 'failures', title: t('health.failureRate'), render: (_, c) => percent(c.failure_rate) },
              { key: 'queue', title: t('health.connectorQueue'), render: (_, c) => t('health.connectorQueueParts', { queued: i18n.number(c.queued), refused: i18n.number(c.refused) }) },
              {
                key: 'error',
                title: t('health.lastError'),
                render: (_, c) =>
                  c.last_error ? (
                    <Typography.Text type="danger" style={{ fontSize: 12 }} ellipsis={{ tooltip: c.last_error }}>
                      {c.last_error}
                    </Typography.Text>
                  ) : (
                    '—'
                  ),
              },
            ]}
          />
        )}
      </>
    );
  };

  return (
    <div>
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 12 }} wrap>
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('health.title')}
        </Typography.Title>
        <Segmented<number>
          value={windowMinutes}
          onChange={setWindowMinutes}
          aria-label={t('health.window')}
          options={[
            { value: 15, label: t('health.window.15') },
            { value: 60, label: t('health.window.60') },
            { value: 1440, label: t('health.window.1440') },
          ]}
        />
      </Space>
      {body()}
      {open && <DeliveriesDrawer endpoint={open} onClose={() => setOpen(null)} />}
    </div>
  );
}
