// Data health (数据健康度): for a chosen window (1 h, 24 h, 7 d), per source events/minute,
// accepted, rejected, quarantined, duplicates, merge refusals and ingestion delay p50/p95; charts
// of events per minute by outcome, the delay histogram, rejection and quarantine reasons and
// trait fill rates; and the recent warnings (merge guard refusals, …) with their details.
import { Card, Col, Empty, Row, Segmented, Select, Space, Statistic, Table, Tag, Typography } from 'antd';
import ReactEChartsCore from 'echarts-for-react/esm/core';
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { api } from '../../api/client';
import { eventCodeText } from '../../i18n/codes';
import { useI18n, type I18n } from '../../i18n/I18nProvider';
import { PageError, PageLoading } from '../../app/PageState';
import { cdpKeys, cdpPath, type HealthReport, type HealthWarning, type SourceHealth } from './api';
import { OUTCOMES, bucketLabels, codeLabel, bucketMinutes, formatQuantile, seriesBuckets, sumBuckets } from './model';
import { kindVisual } from './visuals';
import { useIdentifierLabel } from './identifiers';
import { warningProfiles, warningSentence } from './warningText';
import { Link } from 'react-router';
import { tooltipLines } from '../../app/chartTooltip';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

const WINDOWS = [
  { minutes: 60, key: 'cdp.health.window1h' },
  { minutes: 1440, key: 'cdp.health.window24h' },
  { minutes: 10080, key: 'cdp.health.window7d' },
] as const;

const OUTCOME_COLORS: Record<string, string> = {
  accepted: '#52c41a',
  quarantined: '#fa8c16',
  rejected: '#f5222d',
  duplicates: '#8c8c8c',
  warning: '#faad14',
};

export default function HealthPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const [minutes, setMinutes] = useState<number>(60);
  const [sourceId, setSourceId] = useState<string>('all');
  const report = useQuery({
    queryKey: cdpKeys.health(minutes),
    queryFn: () => api.get<HealthReport>(cdpPath('/health'), { minutes }),
    refetchInterval: 30_000,
  });

  return (
    <div data-testid="cdp-health">
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 12, alignItems: 'center', marginBottom: 16 }}>
        <Typography.Title level={4} style={{ margin: 0, flex: 1, minWidth: 200 }}>
          {t('cdp.health.title')}
        </Typography.Title>
        <Segmented<number>
          value={minutes}
          onChange={setMinutes}
          options={WINDOWS.map((w) => ({ value: w.minutes, label: t(w.key) }))}
          aria-label={t('cdp.health.window')}
          data-testid="health-window"
        />
      </div>
      {report.isLoading ? (
        <PageLoading />
      ) : report.error || !report.data ? (
        <PageError error={report.error} onRetry={() => report.refetch()} />
      ) : (
        <HealthView report={report.data} sourceId={sourceId} setSourceId={setSourceId} />
      )}
    </div>
  );
}

function HealthView({ report, sourceId, setSourceId }: { report: HealthReport; sourceId: string; setSourceId: (id: string) => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const identifierLabel = useIdentifierLabel();
  const chosen = sourceId === 'all' ? report.sources : report.sources.filter((s) => s.source_id === sourceId);
  const names = new Map(report.sources.map((s) => [s.source_id, s.name]));
  const total = (pick: (s: SourceHealth) => number) => report.sources.reduce((sum, s) => sum + pick(s), 0);

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <Row gutter={[16, 16]}>
        {[
          { key: 'profiles', label: t('cdp.health.profiles'), value: report.profiles },
          { key: 'accepted', label: t('cdp.health.accepted'), value: total((s) => s.accepted) },
          { key: 'quarantined', label: t('cdp.health.quarantined'), value: total((s) => s.quarantined) },
          { key: 'rejected', label: t('cdp.health.rejected'), value: total((s) => s.rejected) },
        ].map((item) => (
          <Col key={item.key} xs={12} md={6}>
            <Card size="small">
              <Statistic title={item.label} value={item.value} formatter={(v) => i18n.number(Number(v))} data-testid={`health-total-${item.key}`} />
            </Card>
          </Col>
        ))}
      </Row>

      {report.sources.length === 0 ? (
        <Card>
          <Empty description={t('cdp.health.noSources')} />
        </Card>
      ) : (
        <Row gutter={[16, 16]}>
          {report.sources.map((s) => (
            <Col key={s.source_id} xs={24} md={12} xxl={8}>
              <SourceCard source={s} bounds={report.delay_bucket_bounds_ms} />
            </Col>
          ))}
        </Row>
      )}

      <div style={{ display: 'flex', alignItems: 'center', gap: 8, flexWrap: 'wrap' }}>
        <Typography.Text strong>{t('cdp.health.charts')}</Typography.Text>
        <Select
          value={sourceId}
          onChange={setSourceId}
          style={{ minWidth: 200 }}
          aria-label={t('cdp.health.chartSource')}
          options={[{ value: 'all', label: t('cdp.health.allSources') }, ...report.sources.map((s) => ({ value: s.source_id, label: s.name }))]}
        />
      </div>
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={12}>
          <Card title={t('cdp.health.eventsChart', { minutes: bucketMinutes(report.window_minutes) })}>
            <EventsChart sources={chosen} windowMinutes={report.window_minutes} />
          </Card>
        </Col>
        <Col xs={24} xl={12}>
          <Card title={t('cdp.health.delayChart')}>
            <DelayChart sources={chosen} bounds={report.delay_bucket_bounds_ms} />
          </Card>
        </Col>
        <Col xs={24} xl={12}>
          <Card title={t('cdp.health.reasonsChart')}>
            <ReasonsChart sources={chosen} />
          </Card>
        </Col>
        <Col xs={24} xl={12}>
          <Card title={t('cdp.health.traitsChart', { count: i18n.number(report.profiles) })}>
            <TraitsChart report={report} />
          </Card>
        </Col>
      </Row>

      <Card title={t('cdp.health.warnings')}>
        <Table<HealthWarning>
          rowKey="id"
          size="small"
          dataSource={report.warnings}
          pagination={{ pageSize: 10, hideOnSinglePage: true }}
          locale={{ emptyText: t('cdp.health.noWarnings') }}
          scroll={{ x: 'max-content' }}
          expandable={{
            expandedRowRender: (w) => (
              <pre style={{ margin: 0, whiteSpace: 'pre-wrap', wordBreak: 'break-all', fontSize: 12 }}>{JSON.stringify(w.details, null, 2)}</pre>
            ),
          }}
          data-testid="health-warnings"
          columns={[
            { key: 'at', title: t('cdp.health.at'), render: (_, w) => i18n.dateTime(w.at) },
            { key: 'code', title: t('cdp.health.code'), render: (_, w) => <Tag color="gold">{eventCodeText(i18n.locale, w.code)}</Tag> },
            { key: 'source', title: t('cdp.health.source'), render: (_, w) => (w.source_id ? names.get(w.source_id) ?? w.source_id : t('common.none')) },
            { key: 'message', title: t('cdp.health.message'), render: (_, w) => <span data-testid="warning-sentence">{warningSentence(i18n, w, (type) => identifierLabel(type))}</span> },
            {
              key: 'profiles',
              title: t('cdp.warning.profiles'),
              render: (_, w) => (
                <Space size={8}>
                  {warningProfiles(w).map((id, n) => (
                    <Link key={id} to={`/cdp/profiles/${id}`}>
                      {t('cdp.warning.profile', { n: n + 1 })}
                    </Link>
                  ))}
                </Space>
              ),
            },
          ]}
        />
      </Card>
    </Space>
  );
}

/** Events per minute to two decimals; a trickle shows as "< 0.01" rather than 0. */
function perMinute(i18n: I18n, value: number): string {
  if (value > 0 && value < 0.01) return `< ${i18n.number(0.01)}`;
  return i18n.number(Math.round(value * 100) / 100);
}

function SourceCard({ source, bounds }: { source: SourceHealth; bounds: number[] }) {
  const i18n = useI18n();
  const { t } = i18n;
  const visual = kindVisual(source.kind);
  const none = t('common.none');
  const stats: [string, string, string?][] = [
    ['perMinute', perMinute(i18n, source.events_per_minute)],
    ['accepted', i18n.number(source.accepted), OUTCOME_COLORS.accepted],
    ['rejected', i18n.number(source.rejected), source.rejected ? OUTCOME_COLORS.rejected : undefined],
    ['quarantined', i18n.number(source.quarantined), source.quarantined ? OUTCOME_COLORS.quarantined : undefined],
    ['duplicates', i18n.number(source.duplicates)],
    ['mergeRefused', i18n.number(source.merge_refused), source.merge_refused ? OUTCOME_COLORS.warning : undefined],
    ['p50', formatQuantile(i18n.locale, source.delay_p50_ms, bounds) ?? none],
    ['p95', formatQuantile(i18n.locale, source.delay_p95_ms, bounds) ?? none],
  ];
  return (
    <Card
      size="small"
      data-testid="health-source"
      title={
        <Space>
          <span style={{ color: visual.color }}>{visual.icon}</span>
          <span>{source.name}</span>
          <Tag bordered={false}>{codeLabel(t, 'cdp.kind', source.kind)}</Tag>
        </Space>
      }
      extra={
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {source.last_event_at ? t('cdp.health.lastEvent', { when: i18n.relative(source.last_event_at) }) : t('cdp.health.noEvents')}
        </Typography.Text>
      }
    >
      <Row gutter={[12, 12]}>
        {stats.map(([key, value, color]) => (
          <Col key={key} xs={12} sm={6}>
            <Typography.Text type="secondary" style={{ fontSize: 12, display: 'block' }}>
              {t(`cdp.health.${key}` as 'cdp.health.p50')}
            </Typography.Text>
            <span className="num" style={{ fontSize: 18, color }} data-testid={`health-${key}`}>
              {value}
            </span>
          </Col>
        ))}
      </Row>
    </Card>
  );
}

function Chart({ option, empty, testId }: { option: object; empty: boolean; testId: string }) {
  const { t } = useI18n();
  if (empty) return <Empty description={t('cdp.health.noData')} />;
  return (
    <div data-testid={testId}>
      <ReactEChartsCore echarts={echarts} option={option} style={{ height: 280 }} notMerge lazyUpdate />
    </div>
  );
}

function EventsChart({ sources, windowMinutes }: { sources: SourceHealth[]; windowMinutes: number }) {
  const i18n = useI18n();
  const { t } = i18n;
  const option = useMemo(() => {
    const buckets = seriesBuckets(sources.map((s) => s.series), windowMinutes, Date.now());
    const time = (at: number) => (windowMinutes > 1440 ? i18n.dateTime(new Date(at).toISOString()) : new Date(at).toLocaleTimeString(i18n.locale, { hour: '2-digit', minute: '2-digit' }));
    return {
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => i18n.number(Math.round(v * 100) / 100) },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: buckets.map((b) => time(b.at)), boundaryGap: false },
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => i18n.number(v) } },
      series: OUTCOMES.map((o) => ({
        name: t(`cdp.health.${o}`),
        type: 'line',
        stack: 'events',
        areaStyle: { opacity: 0.6 },
        symbol: 'none',
        lineStyle: { width: 1 },
        color: OUTCOME_COLORS[o],
        data: buckets.map((b) => b.perMinute[o]),
      })),
    };
  }, [sources, windowMinutes, i18n, t]);
  return <Chart option={option} empty={sources.every((s) => s.received === 0 && s.duplicates === 0)} testId="chart-events" />;
}

function DelayChart({ sources, bounds }: { sources: SourceHealth[]; bounds: number[] }) {
  const i18n = useI18n();
  const { t } = i18n;
  const counts = sumBuckets(sources.map((s) => s.delay_buckets), bounds.length + 1);
  const option = {
    tooltip: { trigger: 'axis', valueFormatter: (v: number) => i18n.number(v) },
    grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: bucketLabels(i18n.locale, bounds), axisLabel: { rotate: 45 } },
    yAxis: { type: 'value', name: t('cdp.health.eventsAxis'), axisLabel: { formatter: (v: number) => i18n.number(v) } },
    series: [{ type: 'bar', name: t('cdp.health.eventsAxis'), data: counts, color: '#1f6feb', barMaxWidth: 32 }],
  };
  return <Chart option={option} empty={counts.every((c) => c === 0)} testId="chart-delay" />;
}

function ReasonsChart({ sources }: { sources: SourceHealth[] }) {
  const i18n = useI18n();
  const { t } = i18n;
  const totals = new Map<string, { outcome: string; code: string; count: number }>();
  for (const s of sources) {
    for (const r of s.reasons) {
      if (r.outcome !== 'rejected' && r.outcome !== 'quarantined') continue;
      const key = `${r.outcome}|${r.code}`;
      const item = totals.get(key) ?? { outcome: r.outcome, code: r.code, count: 0 };
      item.count += r.count;
      totals.set(key, item);
    }
  }
  const rows = [...totals.values()].sort((a, b) => a.count - b.count);
  const option = {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: number) => i18n.number(v) },
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', axisLabel: { formatter: (v: number) => i18n.number(v) } },
    yAxis: { type: 'category', data: rows.map((r) => `${t(`cdp.health.${r.outcome}` as 'cdp.health.rejected')} · ${eventCodeText(i18n.locale, r.code)}`) },
    series: [
      {
        type: 'bar',
        name: t('cdp.health.eventsAxis'),
        data: rows.map((r) => ({ value: r.count, itemStyle: { color: OUTCOME_COLORS[r.outcome] } })),
        barMaxWidth: 24,
      },
    ],
  };
  return <Chart option={option} empty={rows.length === 0} testId="chart-reasons" />;
}

function TraitsChart({ report }: { report: HealthReport }) {
  const i18n = useI18n();
  const { t } = i18n;
  const rows = [...report.traits].sort((a, b) => a.fill_rate - b.fill_rate);
  const pct = (v: number) => i18n.percent(String(Math.round(v * 1000) / 10));
  const option = {
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (params: { dataIndex: number }[]) => {
        const row = rows[params[0]?.dataIndex ?? 0];
        return row ? tooltipLines([row.trait, `${pct(row.fill_rate)} (${t('cdp.health.filled', { count: i18n.number(row.filled) })})`]) : '';
      },
    },
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', max: 100, axisLabel: { formatter: (v: number) => i18n.percent(String(v)) } },
    // Long names are cut on the axis (the tooltip shows them whole), so the bars keep their room.
    yAxis: { type: 'category', data: rows.map((r) => r.trait), axisLabel: { width: 160, overflow: 'truncate' } },
    series: [{ type: 'bar', name: t('cdp.health.fillRate'), data: rows.map((r) => Math.round(r.fill_rate * 1000) / 10), color: '#13a8a8', barMaxWidth: 20 }],
  };
  return <Chart option={option} empty={rows.length === 0} testId="chart-traits" />;
}
