import { describe, expect, it } from 'vitest';
import type { Region } from '../../../api/types';
import { addressInput, addressText, pickerRegions, regionIndex } from './address';

const TREE: Region[] = [
  {
    code: '31', name: '上海市',
    children: [{ code: '3101', name: '市辖区', children: [{ code: '310104', name: '徐汇区' }, { code: '310115', name: '浦东新区' }] }],
  },
  {
    code: '50', name: '重庆市',
    children: [
      { code: '5001', name: '市辖区', children: [{ code: '500101', name: '万州区' }] },
      { code: '5002', name: '县', children: [{ code: '500229', name: '城口县' }] },
    ],
  },
  {
    code: '44', name: '广东省',
    children: [{ code: '4403', name: '深圳市', children: [{ code: '440305', name: '南山区' }] }],
  },
  { code: '71', name: '台湾省' },
];

describe('addressText', () => {
  it('reads as province, city, district and street, without a placeholder or repeated city', () => {
    expect(addressText({ code: '310104', province: '上海市', city: '上海市', district: '徐汇区', street: '漕溪北路 88 号' })).toBe(
      '上海市 徐汇区 漕溪北路 88 号',
    );
    expect(addressText({ code: '310104', province: '上海市', city: '市辖区', district: '徐汇区' })).toBe('上海市 徐汇区');
    expect(addressText({ code: '440305', province: '广东省', city: '深圳市', district: '南山区', street: ' 科技园 ' })).toBe('广东省 深圳市 南山区 科技园');
  });

  it('leaves out what is absent', () => {
    expect(addressText({ code: '44', province: '广东省' })).toBe('广东省');
    expect(addressText({ street: '<img src=x onerror=alert(1)>' })).toBe('<img src=x onerror=alert(1)>');
    expect(addressText({})).toBe('');
  });
});

describe('the region pickers', () => {
  const picker = pickerRegions(TREE);
  const index = regionIndex(picker);

  it('put the districts of placeholder cities directly under the province', () => {
    expect(picker[0].children?.map((r) => r.name)).toEqual(['徐汇区', '浦东新区']);
    expect(picker[1].children?.map((r) => r.name)).toEqual(['万州区', '城口县']);
    expect(picker[2].children?.map((r) => r.name)).toEqual(['深圳市']);
    expect(picker[3].children).toBeUndefined();
  });

  it('find any region’s path and name by its code', () => {
    expect(index.get('310104')).toEqual({ path: ['31', '310104'], label: '上海市 徐汇区' });
    expect(index.get('440305')).toEqual({ path: ['44', '4403', '440305'], label: '广东省 深圳市 南山区' });
    expect(index.get('31')).toEqual({ path: ['31'], label: '上海市' });
    expect(index.get('3101')).toBeUndefined();
  });
});

describe('addressInput', () => {
  it('sends the region code and the street as typed, or null for neither', () => {
    expect(addressInput('310104', '漕溪北路 ')).toEqual({ code: '310104', street: '漕溪北路 ' });
    expect(addressInput('31', '')).toEqual({ code: '31' });
    expect(addressInput(undefined, '某路 1 号')).toEqual({ street: '某路 1 号' });
    expect(addressInput(undefined, '  ')).toBeNull();
  });
});
