// The layout designer: the record page's sections and their fields, dragged between sections
// and reordered (dnd-kit, mouse, touch or keyboard), saved as the object's layout.
import { App, Button, Card, Input, Space, Tag, Typography, Breadcrumb } from 'antd';
import { DeleteOutlined, HolderOutlined, PlusOutlined, SaveOutlined } from '@ant-design/icons';
import {
  DndContext, KeyboardSensor, PointerSensor, closestCorners, useDroppable, useSensor, useSensors, type DragEndEvent,
  type DragOverEvent,
} from '@dnd-kit/core';
import { SortableContext, arrayMove, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { api, apiPath } from '../../api/client';
import { keys, useObject } from '../../api/queries';
import type { LayoutSection, ObjectDef } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { PageError, PageLoading, errorMessage } from '../../app/PageState';

const UNPLACED = 'unplaced';

interface Section {
  id: string;
  label: { en: string; zh: string };
  fields: string[];
}

function sectionsOf(object: ObjectDef): { sections: Section[]; unplaced: string[] } {
  const active = object.fields.filter((f) => !f.archived_at).map((f) => f.api_name);
  const sections = (object.layout ?? []).map((s, i) => ({ id: `s${i}`, label: s.label, fields: s.fields.filter((f) => active.includes(f)) }));
  const placed = new Set(sections.flatMap((s) => s.fields));
  return { sections, unplaced: active.filter((f) => !placed.has(f)) };
}

export default function LayoutDesigner() {
  const { object: apiName } = useParams();
  const { object, isLoading } = useObject(apiName);
  if (isLoading) return <PageLoading />;
  if (!object) return <PageError error={new Error('object')} />;
  return <Designer key={object.api_name} object={object} />;
}

function Designer({ object }: { object: ObjectDef }) {
  const i18n = useI18n();
  const { t, label } = i18n;
  const { message } = App.useApp();
  const client = useQueryClient();
  const [state, setState] = useState(() => sectionsOf(object));
  const [busy, setBusy] = useState(false);
  useEffect(() => setState(sectionsOf(object)), [object]);
  const sensors = useSensors(useSensor(PointerSensor), useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }));
  const fieldLabel = (name: string) => label(object.fields.find((f) => f.api_name === name)?.label) || name;

  const containerOf = (id: string): string | undefined => {
    if (id === UNPLACED || state.sections.some((s) => s.id === id)) return id;
    if (state.unplaced.includes(id)) return UNPLACED;
    return state.sections.find((s) => s.fields.includes(id))?.id;
  };
  const itemsOf = (container: string) => (container === UNPLACED ? state.unplaced : state.sections.find((s) => s.id === container)?.fields ?? []);
  const setItems = (container: string, items: string[], s = state) =>
    container === UNPLACED ? { ...s, unplaced: items } : { ...s, sections: s.sections.map((x) => (x.id === container ? { ...x, fields: items } : x)) };

  const onDragOver = ({ active, over }: DragOverEvent) => {
    if (!over) return;
    const from = containerOf(String(active.id));
    const to = containerOf(String(over.id));
    if (!from || !to || from === to) return;
    const source = itemsOf(from).filter((f) => f !== active.id);
    const target = [...itemsOf(to)];
    const index = target.indexOf(String(over.id));
    target.splice(index < 0 ? target.length : index, 0, String(active.id));
    setState((s) => setItems(to, target, setItems(from, source, s)));
  };
  const onDragEnd = ({ active, over }: DragEndEvent) => {
    if (!over) return;
    const container = containerOf(String(active.id));
    if (!container || container !== containerOf(String(over.id))) return;
    const items = itemsOf(container);
    const from = items.indexOf(String(active.id));
    const to = items.indexOf(String(over.id));
    if (from >= 0 && to >= 0 && from !== to) setState((s) => setItems(container, arrayMove(items, from, to), s));
  };

  const save = async () => {
    setBusy(true);
    try {
      const layout: LayoutSection[] = state.sections.map((s) => ({ label: s.label, fields: s.fields }));
      await api.patch(apiPath`/api/v1/objects/${object.api_name}`, { layout });
      await client.invalidateQueries({ queryKey: keys.objects });
      message.success(t('settings.layoutSaved'));
    } catch (error) {
      message.error(errorMessage(i18n, error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div>
      <Breadcrumb
        items={[
          { title: <Link to="/settings/objects">{t('settings.objects')}</Link> },
          { title: <Link to={`/settings/objects/${object.api_name}`}>{label(object.label)}</Link> },
          { title: t('settings.layout') },
        ]}
        style={{ marginBottom: 8 }}
      />
      <div style={{ display: 'flex', alignItems: 'center', gap: 8, marginBottom: 8 }}>
        <Typography.Title level={4} style={{ margin: 0, flex: 1 }}>
          {t('settings.layout')} · {label(object.label)}
        </Typography.Title>
        <Button
          icon={<PlusOutlined />}
          onClick={() =>
            setState((s) => ({ ...s, sections: [...s.sections, { id: `s${Date.now()}`, label: { en: 'Section', zh: '分区' }, fields: [] }] }))
          }
        >
          {t('settings.addSection')}
        </Button>
        <Button type="primary" icon={<SaveOutlined />} loading={busy} onClick={save}>
          {t('common.save')}
        </Button>
      </div>
      <Typography.Paragraph type="secondary">{t('settings.layoutHint')}</Typography.Paragraph>
      <DndContext sensors={sensors} collisionDetection={closestCorners} onDragOver={onDragOver} onDragEnd={onDragEnd}>
        <div style={{ display: 'flex', gap: 16, flexWrap: 'wrap', alignItems: 'flex-start' }}>
          <div style={{ flex: '2 1 420px', display: 'flex', flexDirection: 'column', gap: 12 }}>
            {state.sections.map((section) => (
              <Card
                key={section.id}
                size="small"
                title={
                  <Space>
                    <Input
                      size="small"
                      value={section.label.zh}
                      aria-label={`${t('settings.sectionName')} (中文)`}
                      onChange={(e) => setState((s) => ({ ...s, sections: s.sections.map((x) => (x.id === section.id ? { ...x, label: { ...x.label, zh: e.target.value } } : x)) }))}
                    />
                    <Input
                      size="small"
                      value={section.label.en}
                      aria-label={`${t('settings.sectionName')} (English)`}
                      onChange={(e) => setState((s) => ({ ...s, sections: s.sections.map((x) => (x.id === section.id ? { ...x, label: { ...x.label, en: e.target.value } } : x)) }))}
                    />
                  </Space>
                }
                extra={
                  <Button
                    type="text"
                    danger
                    size="small"
                    icon={<DeleteOutlined />}
                    aria-label={t('common.remove')}
                    onClick={() => setState((s) => ({ sections: s.sections.filter((x) => x.id !== section.id), unplaced: [...s.unplaced, ...section.fields] }))}
                  />
                }
              >
                <FieldList id={section.id} items={section.fields} fieldLabel={fieldLabel} />
              </Card>
            ))}
          </div>
          <Card size="small" title={t('settings.unplaced')} style={{ flex: '1 1 240px' }}>
            <FieldList id={UNPLACED} items={state.unplaced} fieldLabel={fieldLabel} />
          </Card>
        </div>
      </DndContext>
    </div>
  );
}

function FieldList({ id, items, fieldLabel }: { id: string; items: string[]; fieldLabel: (name: string) => string }) {
  const { setNodeRef } = useDroppable({ id });
  return (
    <SortableContext id={id} items={items} strategy={verticalListSortingStrategy}>
      <div ref={setNodeRef} style={{ minHeight: 40, display: 'flex', flexDirection: 'column', gap: 6 }}>
        {items.map((name) => (
          <SortableField key={name} id={name} text={fieldLabel(name)} />
        ))}
      </div>
    </SortableContext>
  );
}

function SortableField({ id, text }: { id: string; text: string }) {
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id });
  return (
    <div
      ref={setNodeRef}
      {...attributes}
      {...listeners}
      style={{
        transform: CSS.Transform.toString(transform),
        transition,
        opacity: isDragging ? 0.5 : 1,
        background: '#fff',
        border: '1px solid #e5e7eb',
        borderRadius: 6,
        padding: '6px 10px',
        cursor: 'grab',
        touchAction: 'none',
      }}
    >
      <HolderOutlined style={{ color: '#999', marginInlineEnd: 8 }} />
      {text} <Tag style={{ marginInlineStart: 8 }}>{id}</Tag>
    </div>
  );
}
