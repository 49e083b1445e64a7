// The visual segment builder (自助式人群包): nested groups (all / any / none / not all) of
// behaviour blocks (an event type, property filters from its schema, a time window and a count,
// "did not" being a count of zero), trait rules and contact field rules (the list filter's own
// rule editor over `contact.` paths). Edits a `SegmentGroup`; server errors are shown under the
// block they point at.
import { AutoComplete, Button, DatePicker, Input, InputNumber, Select, Space, Tag, Typography } from 'antd';
import {
  ApartmentOutlined, DeleteOutlined, FilterOutlined, IdcardOutlined, ThunderboltOutlined, UserOutlined,
} from '@ant-design/icons';
import dayjs from 'dayjs';
import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { useI18n } from '../../i18n/I18nProvider';
import { RuleEditor } from '../records/filter/FilterBuilder';
import type { FilterField, FilterNode, Rule } from '../records/filter/conditionModel';
import type { EventType } from '../cdp/api';
import { useEventNames } from '../cdp/eventNames';
import {
  COUNT_OPS, MAX_WHERE, TRAIT_OPS, WINDOW_UNITS, changePropertyOp, changeTraitOp, exclusiveEnd, isDate, isDidNot, lastIncludedDay,
  newBehavior, newFieldRule, newGroup, newPropertyFilter, newTraitRule, propertyOpsFor, propertyValueShape, schemaProperties,
  setDidNot, traitValueShape, updateNode, type BehaviorRule, type CountOp, type PropertyFilter, type PropertyOp, type SchemaProperty,
  type SegmentGroup, type SegmentNode, type TraitOp, type TraitRule, type WindowUnit,
} from './model';

interface BuilderProps {
  value: SegmentGroup;
  onChange: (next: SegmentGroup) => void;
  /** Contact fields, paths under `contact.`. */
  fields: FilterField[];
  eventTypes: EventType[];
  /** Known trait names (suggestions; any name may be typed). */
  traits: string[];
  /** Server messages by block (or property filter) id. */
  errors: Map<string, string>;
}

interface Ctx {
  fields: FilterField[];
  eventTypes: EventType[];
  traits: string[];
  errors: Map<string, string>;
  update: (id: string, fn: (node: SegmentNode) => SegmentNode | null) => void;
}

const BuilderContext = createContext<Ctx | null>(null);

function useBuilder(): Ctx {
  const ctx = useContext(BuilderContext);
  if (!ctx) throw new Error('useBuilder outside SegmentBuilder');
  return ctx;
}

export function SegmentBuilder({ value, onChange, fields, eventTypes, traits, errors }: BuilderProps) {
  const { t } = useI18n();
  const ctx = useMemo<Ctx>(
    () => ({ fields, eventTypes, traits, errors, update: (id, fn) => onChange(updateNode(value, id, fn)) }),
    [fields, eventTypes, traits, errors, onChange, value],
  );
  return (
    <BuilderContext.Provider value={ctx}>
      <div data-testid="segment-builder">
        <GroupBlock group={value} root />
        {value.children.length === 0 && (
          <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
            {t('segments.builder.empty')}
          </Typography.Paragraph>
        )}
      </div>
    </BuilderContext.Provider>
  );
}

type GroupMode = 'all' | 'any' | 'none' | 'not_all';

function groupMode(group: SegmentGroup): GroupMode {
  if (!group.negate) return group.combinator;
  return group.combinator === 'any' ? 'none' : 'not_all';
}

function ErrorLine({ id }: { id: string }) {
  const { errors } = useBuilder();
  const message = errors.get(id);
  if (!message) return null;
  return (
    <Typography.Text type="danger" data-testid="block-error" style={{ display: 'block', marginTop: 4 }}>
      {message}
    </Typography.Text>
  );
}

function Block({ node, icon, title, children }: { node: SegmentNode; icon: ReactNode; title: string; children: ReactNode }) {
  const { errors } = useBuilder();
  const failed = errors.has(node.id);
  return (
    <div
      data-testid="segment-block"
      data-kind={node.kind === 'rule' ? 'field' : node.kind}
      style={{
        border: `1px solid ${failed ? '#ff4d4f' : '#e5e7eb'}`,
        borderRadius: 8,
        padding: 10,
        background: '#fff',
      }}
    >
      <Typography.Text type="secondary" style={{ fontSize: 12, display: 'block', marginBottom: 6 }}>
        {icon} {title}
      </Typography.Text>
      {children}
      <ErrorLine id={node.id} />
    </div>
  );
}

function GroupBlock({ group, root }: { group: SegmentGroup; root?: boolean }) {
  const { t } = useI18n();
  const { fields, errors, update } = useBuilder();
  const setMode = (mode: GroupMode) =>
    update(group.id, (n) => ({ ...(n as SegmentGroup), combinator: mode === 'any' || mode === 'none' ? 'any' : 'all', negate: mode === 'none' || mode === 'not_all' }));
  const add = (node: SegmentNode) => update(group.id, (n) => ({ ...(n as SegmentGroup), children: [...(n as SegmentGroup).children, node] }));
  return (
    <div
      role="group"
      data-testid={root ? 'segment-root' : 'segment-group'}
      style={{
        border: root ? undefined : `1px dashed ${errors.has(group.id) ? '#ff4d4f' : '#c9d1d9'}`,
        borderRadius: 8,
        padding: root ? 0 : 10,
        background: root ? undefined : '#fafbfc',
      }}
    >
      <Space wrap style={{ marginBottom: 8 }}>
        <Typography.Text>{t('segments.builder.match')}</Typography.Text>
        <Select<GroupMode>
          size="small"
          value={groupMode(group)}
          onChange={setMode}
          style={{ width: 150 }}
          aria-label={t('segments.builder.match')}
          data-testid="group-mode"
          options={[
            { value: 'all', label: t('segments.group.all') },
            { value: 'any', label: t('segments.group.any') },
            { value: 'none', label: t('segments.group.none') },
            { value: 'not_all', label: t('segments.group.notAll') },
          ]}
        />
        {!root && (
          <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={() => update(group.id, () => null)}>
            {t('segments.builder.removeGroup')}
          </Button>
        )}
      </Space>
      <ErrorLine id={group.id} />
      <div style={{ display: 'flex', flexDirection: 'column', gap: 8, paddingInlineStart: root ? 0 : 8 }}>
        {group.children.map((child) => (
          <NodeBlock key={child.id} node={child} />
        ))}
      </div>
      <Space wrap style={{ marginTop: 8 }}>
        <Button size="small" icon={<ThunderboltOutlined />} onClick={() => add(newBehavior())} data-testid="add-behavior">
          {t('segments.builder.addBehavior')}
        </Button>
        <Button size="small" icon={<UserOutlined />} onClick={() => add(newTraitRule())} data-testid="add-trait">
          {t('segments.builder.addTrait')}
        </Button>
        <Button size="small" icon={<IdcardOutlined />} onClick={() => add(newFieldRule(fields[0]))} data-testid="add-field" disabled={fields.length === 0}>
          {t('segments.builder.addField')}
        </Button>
        <Button size="small" icon={<ApartmentOutlined />} onClick={() => add(newGroup('any'))} data-testid="add-group">
          {t('segments.builder.addGroup')}
        </Button>
      </Space>
    </div>
  );
}

function NodeBlock({ node }: { node: SegmentNode }) {
  const { t } = useI18n();
  const { fields, update } = useBuilder();
  switch (node.kind) {
    case 'group':
      return <GroupBlock group={node} />;
    case 'behavior':
      return <BehaviorBlock rule={node} />;
    case 'trait':
      return <TraitBlock rule={node} />;
    case 'rule':
      return (
        <Block node={node} icon={<IdcardOutlined />} title={t('segments.builder.fieldBlock')}>
          <RuleEditor
            rule={node}
            fields={fields}
            update={(id, fn) => update(id, (n) => fn(n as FilterNode) as Rule | null)}
          />
        </Block>
      );
  }
}

function TraitBlock({ rule }: { rule: TraitRule }) {
  const { t } = useI18n();
  const { traits, update } = useBuilder();
  const set = (next: Partial<TraitRule>) => update(rule.id, (n) => ({ ...(n as TraitRule), ...next }));
  const shape = traitValueShape(rule.op);
  return (
    <Block node={rule} icon={<UserOutlined />} title={t('segments.builder.traitBlock')}>
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8, alignItems: 'center' }}>
        <AutoComplete
          style={{ width: 200 }}
          value={rule.trait}
          options={traits.map((name) => ({ value: name }))}
          onChange={(v) => set({ trait: String(v ?? '') })}
          placeholder={t('segments.builder.trait')}
          aria-label={t('segments.builder.trait')}
          filterOption={(input, option) => String(option?.value ?? '').toLowerCase().includes(input.toLowerCase())}
        />
        <Select<TraitOp>
          style={{ width: 150 }}
          value={rule.op}
          aria-label={t('filter.operator')}
          onChange={(op) => update(rule.id, (n) => changeTraitOp(n as TraitRule, op))}
          options={TRAIT_OPS.map((op) => ({ value: op, label: t(`segments.op.${op}`) }))}
        />
        {shape === 'single' && (
          <Input
            style={{ width: 200 }}
            value={rule.value === null || rule.value === undefined ? '' : String(rule.value)}
            onChange={(e) => set({ value: e.target.value })}
            aria-label={t('filter.value')}
          />
        )}
        {shape === 'list' && (
          <Select
            mode="tags"
            style={{ minWidth: 200 }}
            value={Array.isArray(rule.value) ? (rule.value as unknown[]).map(String) : []}
            onChange={(v) => set({ value: v })}
            aria-label={t('filter.value')}
            open={false}
            tokenSeparators={[',', ',']}
          />
        )}
        <Button type="text" danger icon={<DeleteOutlined />} aria-label={t('common.remove')} onClick={() => update(rule.id, () => null)} />
      </div>
    </Block>
  );
}

function BehaviorBlock({ rule }: { rule: BehaviorRule }) {
  const { t } = useI18n();
  const names = useEventNames();
  const { eventTypes, update } = useBuilder();
  const set = (next: Partial<BehaviorRule>) => update(rule.id, (n) => ({ ...(n as BehaviorRule), ...next }));
  const type = eventTypes.find((e) => e.name === rule.event);
  const properties = useMemo(() => schemaProperties(type?.schema), [type]);
  const didNot = isDidNot(rule);
  const w = rule.window;
  const setWindow = (next: Partial<BehaviorRule['window']>) => set({ window: { ...w, ...next } });
  const rangeValue: [dayjs.Dayjs, dayjs.Dayjs] | null =
    w.from && w.to ? [dayjs(w.from), dayjs(lastIncludedDay(w.to) ?? w.to)] : null;
  const eventOptions = eventTypes.map((e) => {
    const shown = names.event(e.name);
    const title = shown === e.name ? e.name : `${shown} (${e.name})`;
    return { value: e.name, label: e.description ? `${title} · ${e.description}` : title };
  });
  if (rule.event && !type) eventOptions.push({ value: rule.event, label: rule.event });

  return (
    <Block node={rule} icon={<ThunderboltOutlined />} title={t('segments.builder.behaviorBlock')}>
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8, alignItems: 'center' }} data-testid="behavior-block" data-event={rule.event}>
        <Select<'did' | 'not'>
          style={{ width: 120 }}
          value={didNot ? 'not' : 'did'}
          aria-label={t('segments.builder.did')}
          data-testid="behavior-did"
          onChange={(v) => update(rule.id, (n) => setDidNot(n as BehaviorRule, v === 'not'))}
          options={[
            { value: 'did', label: t('segments.builder.didDo') },
            { value: 'not', label: t('segments.builder.didNot') },
          ]}
        />
        <Select
          showSearch={{ optionFilterProp: 'label' }}
          style={{ minWidth: 240, flex: '1 1 240px', maxWidth: 420 }}
          value={rule.event || undefined}
          placeholder={t('segments.builder.event')}
          aria-label={t('segments.builder.event')}
          data-testid="behavior-event"
          onChange={(event) => set({ event, where: event === rule.event ? rule.where : [] })}
          options={eventOptions}
        />
        <Button type="text" danger icon={<DeleteOutlined />} aria-label={t('common.remove')} onClick={() => update(rule.id, () => null)} />
      </div>
      <div style={{ display: 'flex', flexDirection: 'column', gap: 6, marginTop: 8, paddingInlineStart: 12 }}>
        {rule.where.map((f) => (
          <WhereRow key={f.id} rule={rule} filter={f} properties={properties} />
        ))}
        <div>
          <Button
            size="small"
            type="dashed"
            icon={<FilterOutlined />}
            disabled={!rule.event || rule.where.length >= MAX_WHERE}
            onClick={() => set({ where: [...rule.where, newPropertyFilter(properties[0]?.path ?? '')] })}
            data-testid="add-where"
          >
            {t('segments.builder.addWhere')}
          </Button>
        </div>
      </div>
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8, alignItems: 'center', marginTop: 8 }}>
        <Select<'last' | 'range'>
          style={{ width: 130 }}
          value={w.mode}
          aria-label={t('segments.builder.window')}
          data-testid="window-mode"
          onChange={(mode) => setWindow({ mode })}
          options={[
            { value: 'last', label: t('segments.builder.windowLast') },
            { value: 'range', label: t('segments.builder.windowRange') },
          ]}
        />
        {w.mode === 'last' ? (
          <Space.Compact>
            <InputNumber
              min={1}
              max={w.unit === 'days' ? 366 : w.unit === 'hours' ? 8784 : 527_040}
              precision={0}
              style={{ width: 100 }}
              value={w.last}
              onChange={(v) => setWindow({ last: typeof v === 'number' ? v : null })}
              aria-label={t('segments.builder.windowAmount')}
              data-testid="window-last"
            />
            <Select<WindowUnit>
              style={{ width: 100 }}
              value={w.unit}
              aria-label={t('segments.builder.windowUnit')}
              data-testid="window-unit"
              onChange={(unit) => setWindow({ unit })}
              options={WINDOW_UNITS.map((u) => ({ value: u, label: t(`segments.unit.${u}`) }))}
            />
          </Space.Compact>
        ) : (
          <DatePicker.RangePicker
            value={rangeValue}
            aria-label={t('segments.builder.windowRange')}
            data-testid="window-range"
            onChange={(dates) => {
              const [from, last] = dates ?? [null, null];
              setWindow({
                from: from ? from.format('YYYY-MM-DD') : null,
                to: last ? exclusiveEnd(last.format('YYYY-MM-DD')) : null,
              });
            }}
            showTime={(w.from && !isDate(w.from)) || (w.to && !isDate(w.to)) ? true : undefined}
          />
        )}
        {!didNot && (
          <>
            <Select<CountOp>
              style={{ width: 140 }}
              value={rule.count.op}
              aria-label={t('segments.builder.countOp')}
              data-testid="count-op"
              onChange={(op) => set({ count: { ...rule.count, op } })}
              options={COUNT_OPS.map((op) => ({ value: op, label: t(`segments.op.count.${op}`) }))}
            />
            <InputNumber
              min={0}
              max={1000}
              precision={0}
              style={{ width: 100 }}
              value={rule.count.value}
              onChange={(v) => set({ count: { ...rule.count, value: typeof v === 'number' ? v : null } })}
              aria-label={t('segments.builder.countValue')}
              data-testid="count-value"
            />
            <Typography.Text>{t('segments.builder.times')}</Typography.Text>
          </>
        )}
        {didNot && <Tag color="orange">{t('segments.builder.didNotHint')}</Tag>}
      </div>
    </Block>
  );
}

function WhereRow({ rule, filter, properties }: { rule: BehaviorRule; filter: PropertyFilter; properties: SchemaProperty[] }) {
  const names = useEventNames();
  const { t } = useI18n();
  const { update, errors } = useBuilder();
  const property = properties.find((p) => p.path === filter.property);
  const setFilter = (fn: (f: PropertyFilter) => PropertyFilter | null) =>
    update(rule.id, (n) => {
      const b = n as BehaviorRule;
      return { ...b, where: b.where.map((f) => (f.id === filter.id ? fn(f) : f)).filter((f): f is PropertyFilter => f !== null) };
    });
  const shape = propertyValueShape(filter.op);
  const ops = propertyOpsFor(property?.type);
  return (
    <div data-testid="where-row">
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8, alignItems: 'center' }}>
        <Typography.Text type="secondary">{t('segments.builder.where')}</Typography.Text>
        {properties.length > 0 ? (
          <Select
            showSearch
            style={{ width: 180 }}
            value={filter.property || undefined}
            placeholder={t('segments.builder.property')}
            aria-label={t('segments.builder.property')}
            data-testid="where-property"
            onChange={(path) => {
              const next = properties.find((p) => p.path === path);
              setFilter((f) => {
                const allowed = propertyOpsFor(next?.type);
                const op = allowed.includes(f.op) ? f.op : allowed[0] ?? 'eq';
                return { ...f, property: path, op, value: propertyValueShape(op) === 'list' ? [] : null };
              });
            }}
            options={properties.map((p) => {
              const shown = names.property(rule.event, p.path);
              return { value: p.path, label: shown === p.path ? p.path : `${shown} (${p.path})` };
            })}
          />
        ) : (
          <Input
            style={{ width: 180 }}
            value={filter.property}
            placeholder={t('segments.builder.property')}
            aria-label={t('segments.builder.property')}
            data-testid="where-property"
            onChange={(e) => setFilter((f) => ({ ...f, property: e.target.value }))}
          />
        )}
        <Select<PropertyOp>
          style={{ width: 140 }}
          value={filter.op}
          aria-label={t('filter.operator')}
          data-testid="where-op"
          onChange={(op) => setFilter((f) => changePropertyOp(f, op))}
          options={ops.map((op) => ({ value: op, label: t(`segments.op.${op}`) }))}
        />
        {shape !== 'none' && <PropertyValue filter={filter} property={property} onChange={(value) => setFilter((f) => ({ ...f, value }))} />}
        <Button
          type="text"
          size="small"
          danger
          icon={<DeleteOutlined />}
          aria-label={t('common.remove')}
          onClick={() => setFilter(() => null)}
        />
      </div>
      {errors.has(filter.id) && <ErrorLine id={filter.id} />}
    </div>
  );
}

function PropertyValue({ filter, property, onChange }: { filter: PropertyFilter; property?: SchemaProperty; onChange: (value: unknown) => void }) {
  const { t } = useI18n();
  const list = propertyValueShape(filter.op) === 'list';
  const common = { 'aria-label': t('filter.value'), 'data-testid': 'where-value' };
  if (property?.enum) {
    return (
      <Select
        {...common}
        style={{ minWidth: 140 }}
        mode={list ? 'multiple' : undefined}
        value={(filter.value ?? (list ? [] : undefined)) as string | string[] | undefined}
        onChange={(v) => onChange(v ?? null)}
        options={property.enum.map((v) => ({ value: v as string, label: String(v) }))}
      />
    );
  }
  if (property?.type === 'boolean' && !list) {
    return (
      <Select
        {...common}
        style={{ width: 120 }}
        value={filter.value as boolean | undefined}
        onChange={(v) => onChange(v)}
        options={[
          { value: true, label: 'true' },
          { value: false, label: 'false' },
        ]}
      />
    );
  }
  const numeric = property?.type === 'number' || property?.type === 'integer';
  if (list) {
    return (
      <Select
        {...common}
        mode="tags"
        open={false}
        style={{ minWidth: 180 }}
        tokenSeparators={[',', ',']}
        value={Array.isArray(filter.value) ? (filter.value as unknown[]).map(String) : []}
        onChange={(v: string[]) => onChange(numeric ? v.map((s) => (Number.isFinite(Number(s)) ? Number(s) : s)) : v)}
      />
    );
  }
  if (numeric) {
    return (
      <InputNumber
        {...common}
        style={{ width: 140 }}
        precision={property?.type === 'integer' ? 0 : undefined}
        value={typeof filter.value === 'number' ? filter.value : null}
        onChange={(v) => onChange(typeof v === 'number' ? v : null)}
      />
    );
  }
  return (
    <Input
      {...common}
      style={{ width: 180 }}
      value={filter.value === null || filter.value === undefined ? '' : String(filter.value)}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}
