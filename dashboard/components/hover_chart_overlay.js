// Traces drawn over a hover chart (dashboard/components/hover_chart.py): the ring around the point opened.
// Sent as an element of its own, so that a click changes only this small one and the chart's figure and
// cards (megabytes) stay the same message, which Streamlit then does not send again.
//
// data: {chart: the chart's key, traces: [Plotly JSON traces]}. It draws nothing itself: it leaves the
// traces where the chart's script (hover_chart.js) finds them and asks the chart, if drawn, to redraw.

const CHARTS = "__cnnPlaygroundHoverCharts"; // shared with hover_chart.js

function charts() {
  if (!window[CHARTS]) window[CHARTS] = { roots: new Map(), overlays: new Map() };
  return window[CHARTS];
}

export default function (component) {
  const { data } = component;
  const shared = charts();
  const traces = Array.isArray(data && data.traces) ? data.traces : [];
  shared.overlays.set(data.chart, traces);
  const root = shared.roots.get(data.chart);
  if (root && root.redraw) root.redraw();
  return () => {
    if (shared.overlays.get(data.chart) === traces) shared.overlays.delete(data.chart);
  };
}
