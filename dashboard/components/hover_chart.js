// A Plotly figure drawn by Plotly.js in the page, with a card (an image and a few lines) beside the point
// under the pointer, and the clicked point's position sent back to Python (dashboard/components/hover_chart.py).
//
// data: {figure: Plotly's JSON of the figure, cards: [{src, alt, lines}] by a point's customdata[0],
//        plotly: the address of plotly.min.js (served by this Streamlit server: no internet needed), revision}
// Text of the cards is set with textContent only: class names are text a user typed.
// Traces over the figure (the ring around the point opened) come from the chart's overlay element
// (hover_chart_overlay.js), by the chart's revision (its key): a click changes only that small element.

const ROOT_CLASS = "cnn-hover-chart";

// The plotly package's own Plotly.js, loaded once per page and kept here: Streamlit's st.plotly_chart sets
// window.Plotly to its own copy (another version), so this script never takes whatever window.Plotly is.
const LOADED = "__cnnPlaygroundPlotly";

function loadPlotly(url) {
  if (!window[LOADED]) {
    window[LOADED] = new Promise((resolve, reject) => {
      const before = window.Plotly;
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = () => {
        const ours = window.Plotly; // set by the script as it ran, just before this event
        if (before !== undefined) window.Plotly = before; // the page's global as it was
        if (ours && ours !== before) resolve(ours);
        else reject(new Error("no Plotly"));
      };
      script.onerror = () => {
        window[LOADED] = null; // a later draw tries again
        reject(new Error("not loaded"));
      };
      document.head.appendChild(script);
    });
  }
  return window[LOADED];
}

const CHARTS = "__cnnPlaygroundHoverCharts"; // shared with hover_chart_overlay.js

function charts() {
  if (!window[CHARTS]) window[CHARTS] = { roots: new Map(), overlays: new Map() };
  return window[CHARTS];
}

function element(tag, className, parent) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (parent) parent.appendChild(made);
  return made;
}

function build(parentElement) {
  const root = element("div", ROOT_CLASS, parentElement);
  root.plot = element("div", "cnn-hover-chart-plot", root);
  const card = element("div", "cnn-hover-card", root);
  card.setAttribute("role", "tooltip");
  card.hidden = true;
  card.image = element("img", "", card);
  card.image.width = 84;
  card.image.height = 84;
  card.lines = element("div", "cnn-hover-card-lines", card);
  root.card = card;
  root.problem = element("p", "cnn-hover-chart-problem", root);
  root.problem.hidden = true;
  return root;
}

// The figure as Plotly draws it here: the card replaces Plotly's own hover label on points that have one.
function drawnTraces(figure) {
  return (figure.data || []).map((trace) => {
    if (!Array.isArray(trace.customdata) || trace.hoverinfo === "skip") return trace;
    const copy = { ...trace, hoverinfo: "none" };
    delete copy.hovertemplate;
    return copy;
  });
}

function showCard(root, point) {
  const data = root.current;
  const position = Array.isArray(point.customdata) ? point.customdata[0] : null;
  const found = data && Number.isInteger(position) ? data.cards[position] : null;
  const card = root.card;
  if (!found) {
    card.hidden = true;
    return;
  }
  if (found.src) {
    card.image.src = found.src;
    card.image.alt = found.alt || "";
    card.image.hidden = false;
  } else {
    card.image.removeAttribute("src");
    card.image.alt = "";
    card.image.hidden = true;
  }
  card.lines.replaceChildren(
    ...(found.lines || []).map((line) => {
      const row = document.createElement("div");
      row.textContent = String(line);
      return row;
    }),
  );
  card.hidden = false;
  // Beside the point, inside the chart: to its right, or to its left near the right edge.
  const x = point.xaxis._offset + point.xaxis.l2p(point.x);
  const y = point.yaxis._offset + point.yaxis.l2p(point.y);
  const gap = 14;
  const width = card.offsetWidth;
  const height = card.offsetHeight;
  const left = x + gap + width > root.clientWidth ? Math.max(0, x - gap - width) : x + gap;
  const top = Math.min(Math.max(0, y - height / 2), Math.max(0, root.clientHeight - height));
  card.style.left = `${left}px`;
  card.style.top = `${top}px`;
}

function draw(root, Plotly) {
  const data = root.current;
  const figure = data.figure || {};
  // The page's own font; the same zoom and pan after a redraw (a click redraws the chart with its ring).
  const font = { family: getComputedStyle(root).fontFamily, ...((figure.layout || {}).font || {}) };
  const given = figure.layout || {};
  const margin = { ...(given.margin || {}), t: Math.max((given.margin || {}).t || 0, 28) }; // room for the mode bar
  const layout = { ...given, font, margin, uirevision: data.revision };
  const config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  const gd = root.plot;
  const over = charts().overlays.get(data.revision) || [];
  return Plotly.react(gd, drawnTraces(figure).concat(over), layout, config).then(() => {
    if (gd.cnnHandlers) return;
    gd.cnnHandlers = true;
    gd.on("plotly_hover", (event) => {
      const point = event && event.points && event.points[0];
      if (point) showCard(root, point);
    });
    gd.on("plotly_unhover", () => {
      root.card.hidden = true;
    });
    gd.on("plotly_click", (event) => {
      const point = event && event.points && event.points[0];
      const position = point && Array.isArray(point.customdata) ? point.customdata[0] : null;
      // A trigger, not a state: clicking the same dot again (after opening another from the list) counts.
      if (Number.isInteger(position)) root.setTriggerValue("clicked", position);
    });
  });
}

export default function (component) {
  const { parentElement, data, setTriggerValue } = component;
  const root = parentElement.querySelector(`.${ROOT_CLASS}`) || build(parentElement);
  root.current = data;
  root.setTriggerValue = setTriggerValue;
  charts().roots.set(data.revision, root);
  root.redraw = () => {
    if (root.Plotly) draw(root, root.Plotly).catch(() => {});
  };
  root.card.hidden = true;
  const problem = (words) => {
    root.problem.textContent = words;
    root.problem.hidden = false;
  };
  loadPlotly(data.plotly).then(
    (Plotly) => {
      root.Plotly = Plotly;
      root.problem.hidden = true;
      draw(root, Plotly).catch(() => problem("The map could not be drawn in this browser."));
    },
    () => problem("The map could not be drawn: the page could not load its chart library. Reload the page to try again."),
  );
  if (!root.resizing && window.ResizeObserver) {
    // The column can change width without the window doing so (the sidebar folded away): follow it.
    root.resizing = new ResizeObserver(() => {
      if (root.Plotly && root.plot._fullLayout) root.Plotly.Plots.resize(root.plot).catch(() => {});
    });
    root.resizing.observe(root);
  }
  return () => {
    // Taken off the page: Plotly's listeners go with the chart, and a later mount draws it afresh.
    if (root.resizing) root.resizing.disconnect();
    if (charts().roots.get(data.revision) === root) charts().roots.delete(data.revision);
    if (root.Plotly) root.Plotly.purge(root.plot);
    root.remove();
  };
}
