// The ECharts the page loads as the global `echarts`, built by scripts/echarts.sh (esbuild): only what
// the app's charts use (614 KB instead of the full bundle's 1.1 MB). What is used, and by which chart:
//   series      bar (wall categories, flow stages and backlog, safety by area), sankey (case flow),
//               map (the choropleth; brings the geo component with it)
//   components  grid with x/y axes (the bar charts), legend of the plain kind (stages, safety),
//               tooltip (the map's), visualMap of the continuous kind (the map's colour scale)
//   renderer    canvas (echarts.init is called without a renderer option)
// echarts/core brings the rest: the 'dark' theme, the zh/en locales, label layout, registerMap.
// To draw something new, import its installer from 'echarts/charts', 'echarts/components' or
// 'echarts/features' (names as in node_modules/echarts/index.js) and add it to use([...]); a development
// build (NODE_ENV=development scripts/echarts.sh OUT) logs "[ECharts] Component X is used but not
// imported" or "Series Y is used but not imported" for whatever is missing. A global the page or the
// browser tests call goes in the export list at the end.
import { use } from 'echarts/core';
import { BarChart, MapChart, SankeyChart } from 'echarts/charts';
import {
  GridComponent,
  LegendPlainComponent,
  TooltipComponent,
  VisualMapContinuousComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

use([
  CanvasRenderer,
  BarChart,
  SankeyChart,
  MapChart,
  GridComponent,
  LegendPlainComponent,
  TooltipComponent,
  VisualMapContinuousComponent,
]);

// app/src/echarts.rs: init, registerMap; tests/e2e: getInstanceByDom, getMap; the rest for the console.
export {
  init,
  dispose,
  getInstanceByDom,
  getInstanceById,
  registerMap,
  getMap,
  registerTheme,
  registerLocale,
  use,
  connect,
  disconnect,
  version,
} from 'echarts/core';
