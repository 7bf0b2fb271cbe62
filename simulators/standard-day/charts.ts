import * as echarts from 'echarts';

export interface BarChart {
  readonly title: string;
  readonly categories: readonly string[];
  readonly series: readonly { readonly name: string; readonly data: readonly (number | null)[]; readonly color: string; readonly stack?: string }[];
  readonly yName: string;
  /** Horizontal reference lines (e.g. ISA-18.2 targets), each with its label. */
  readonly lines?: readonly { readonly y: number; readonly label: string }[];
  readonly yMax?: number;

  readonly width?: number;
  readonly height?: number;
}

/** A bar chart as an SVG document, rendered by ECharts on the server (no browser, no animation). */
export function barChartSvg(c: BarChart): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: c.width ?? 900, height: c.height ?? 400 });
  try {
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      title: { text: c.title, left: 'center', top: 4, textStyle: { fontSize: 14, fontFamily: 'sans-serif' } },
      legend: c.series.length > 1 ? { top: 32, textStyle: { fontFamily: 'sans-serif' } } : undefined,
      grid: { left: 90, right: 120, top: c.series.length > 1 ? 76 : 48, bottom: c.categories.length > 12 ? 130 : 50 },
      xAxis: { type: 'category', data: [...c.categories], axisLabel: { rotate: c.categories.length > 12 ? 60 : 0, fontSize: 10, fontFamily: 'sans-serif', interval: c.categories.length > 48 ? Math.floor(c.categories.length / 24) : 0 } },
      yAxis: { type: 'value', name: c.yName, max: c.yMax, nameTextStyle: { fontFamily: 'sans-serif' } },
      series: c.series.map((s, i) => ({
        type: 'bar',
        name: s.name,
        data: [...s.data],
        stack: s.stack,
        itemStyle: { color: s.color },
        markLine:
          i === 0 && c.lines && c.lines.length > 0
            ? { symbol: 'none', silent: true, lineStyle: { type: 'dashed', color: '#666' }, label: { position: 'end', formatter: '{b}', fontSize: 10 }, data: c.lines.map((l) => ({ yAxis: l.y, name: l.label })) }
            : undefined,
      })),
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
