// The parts of ECharts the page uses, registered once: the bundle carries only these.
import * as echarts from 'echarts/core';
import { LineChart, ScatterChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, ScatterChart, GridComponent, TooltipComponent, LegendComponent, MarkLineComponent, MarkAreaComponent, DataZoomComponent, CanvasRenderer]);

export { echarts };
export const FONT = '"Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif';
export const AXIS = { axisLine: { lineStyle: { color: '#2e4660' } }, splitLine: { lineStyle: { color: '#1b2a3c' } }, axisLabel: { color: '#8fa3b8' } };
