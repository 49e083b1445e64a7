// The landing page: "my work" first (MyWork: my tasks due, my deals needing attention, my
// meetings), then the open pipeline by stage (won and lost left out; count and exact amount
// totals from the aggregate endpoint, drawn with ECharts; a click on a stage opens its deals) and
// how many records each object holds.
import { Card, Col, Empty, Row, Space, Statistic, Tag, Typography } from 'antd';
import ReactEChartsCore from 'echarts-for-react/esm/core';
import * as echarts from 'echarts/core';
import { BarChart } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { useQueries, useQuery } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router';
import { api, apiPath } from '../../api/client';
import { useObjects } from '../../api/queries';
import type { AggregateResult, Money } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { objectIcon } from '../../app/objectIcons';
import { PageLoading } from '../../app/PageState';
import { tooltipLines } from '../../app/chartTooltip';
import MyWork, { listLink } from './MyWork';

/** Stages that end a deal: not part of the open pipeline. */
const CLOSED_STAGES = ['closed_won', 'closed_lost'];

echarts.use([BarChart, GridComponent, TooltipComponent, CanvasRenderer]);

export default function DashboardPage() {
  const i18n = useI18n();
  const { t, label } = i18n;
  const navigate = useNavigate();
  const objects = useObjects();
  const deal = objects.data?.find((o) => o.api_name === 'deal');
  const stage = deal?.fields.find((f) => f.api_name === 'stage');
  const pipeline = useQuery({
    queryKey: ['aggregate', 'deal', 'dashboard'],
    enabled: Boolean(stage),
    queryFn: () =>
      api.post<AggregateResult>('/api/v1/objects/deal/records/aggregate', {
        group_by: 'stage',
        metrics: [{ op: 'sum', field: 'amount' }],
      }),
  });
  const shown = (objects.data ?? []).filter((o) => !o.archived_at).slice(0, 8);
  const counts = useQueries({
    queries: shown.map((o) => ({
      queryKey: ['aggregate', o.api_name, 'count'],
      queryFn: () => api.post<AggregateResult>(apiPath`/api/v1/objects/${o.api_name}/records/aggregate`, {}),
    })),
  });
  if (objects.isLoading) return <PageLoading />;

  const options = (stage?.config?.options ?? []).filter((o) => !CLOSED_STAGES.includes(o.value));
  const groups = options.map((o) => {
    const group = pipeline.data?.groups.find((g) => g.key === o.value);
    const sums = (group?.metrics[0] as Money[] | undefined) ?? [];
    const cny = sums.find((s) => s.currency === 'CNY') ?? sums[0];
    return { value: o.value, label: label(o.label), color: o.color ?? '#1f6feb', count: group?.count ?? 0, amount: cny?.amount ?? '0', currency: cny?.currency ?? 'CNY' };
  });
  const chart = {
    tooltip: {
      trigger: 'axis',
      formatter: (params: { dataIndex: number }[]) => {
        const g = groups[params[0]?.dataIndex ?? 0];
        return g ? tooltipLines([g.label, `${t('dashboard.deals')}${t('common.colon')}${i18n.number(g.count)}`, `${t('dashboard.amount')}${t('common.colon')}${i18n.money(g.amount, g.currency)}`]) : '';
      },
    },
    grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: groups.map((g) => g.label), axisLabel: { width: 120, overflow: 'truncate' } },
    yAxis: [{ type: 'value', axisLabel: { formatter: (v: number) => i18n.moneyCompact(String(v), groups[0]?.currency ?? 'CNY') } }],
    series: [
      {
        type: 'bar',
        name: t('dashboard.amount'),
        data: groups.map((g) => ({ value: Number(g.amount), itemStyle: { color: g.color } })),
        barMaxWidth: 48,
      },
    ],
  };

  return (
    <div>
      <Typography.Title level={4}>{t('dashboard.title')}</Typography.Title>
      <MyWork />
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={14}>
          <Card title={t('dashboard.pipeline')} extra={<Typography.Text type="secondary">{t('dashboard.pipelineHint')}</Typography.Text>}>
            {groups.some((g) => g.count > 0) ? (
              <div data-testid="dashboard-pipeline">
                <ReactEChartsCore
                  echarts={echarts}
                  option={chart}
                  style={{ height: 320, cursor: 'pointer' }}
                  notMerge
                  lazyUpdate
                  onEvents={{
                    click: (params: { dataIndex: number }) => {
                      const g = groups[params.dataIndex];
                      if (g) navigate(listLink('deal', { field: 'stage', op: 'eq', value: g.value }));
                    },
                  }}
                />
              </div>
            ) : (
              <Empty description={t('dashboard.noDeals')} />
            )}
            <Space wrap data-testid="pipeline-stages" style={{ marginTop: 8 }}>
              {groups.map((g) => (
                <Link key={g.value} to={listLink('deal', { field: 'stage', op: 'eq', value: g.value })}>
                  <Tag color={g.color}>
                    {g.label} · {i18n.number(g.count)}
                  </Tag>
                </Link>
              ))}
            </Space>
          </Card>
        </Col>
        <Col xs={24} xl={10}>
          <Card title={t('dashboard.counts')}>
            <Row gutter={[16, 16]}>
              {shown.map((o, i) => (
                <Col key={o.api_name} xs={12} md={8} xl={12}>
                  <Link to={`/o/${o.api_name}`}>
                    <Statistic
                      title={<span>{objectIcon(o.api_name)} {label(o.plural_label)}</span>}
                      value={counts[i]?.data?.groups[0]?.count ?? 0}
                      loading={counts[i]?.isLoading}
                      formatter={(v) => i18n.number(Number(v))}
                    />
                  </Link>
                </Col>
              ))}
            </Row>
          </Card>
        </Col>
      </Row>
    </div>
  );
}
