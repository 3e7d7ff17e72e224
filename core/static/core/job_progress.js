/* The job's admin page, live: while the job is pending or processing, ask its progress view
   (core/jobs/admin.py, JobAdmin.progress_view) about once a second and update the read-only fields in
   place (status, counters, progress, the download links, the first errors); stop once it has finished.
   No library: fetch and the DOM. Text goes in as text, never as HTML. */
(function () {
  "use strict";

  var EMPTY = "-";
  var MAX_BACKOFF_MS = 15000;

  function field(name) {
    return document.querySelector(".field-" + name + " .readonly");
  }

  function setText(name, value) {
    var element = field(name);
    var text = value === null || value === undefined || value === "" ? EMPTY : String(value);
    if (element && element.textContent !== text) {
      element.textContent = text;
    }
  }

  function setChildren(element, children) {
    while (element.firstChild) {
      element.removeChild(element.firstChild);
    }
    children.forEach(function (child) { element.appendChild(child); });
  }

  function renderDownloads(downloads) {
    var element = field("downloads");
    if (!element) {
      return;
    }
    if (!downloads.length) {
      setChildren(element, [document.createTextNode(EMPTY)]);
      return;
    }
    var children = [];
    downloads.forEach(function (link, index) {
      if (index) {
        children.push(document.createTextNode(" · "));
      }
      var anchor = document.createElement("a");
      anchor.href = link.url;
      anchor.textContent = link.label;
      children.push(anchor);
    });
    setChildren(element, children);
  }

  function cell(tag, text) {
    var element = document.createElement(tag);
    element.textContent = text === null || text === undefined ? "" : String(text);
    return element;
  }

  function renderErrors(errors) {
    var element = field("errors_preview");
    if (!element || !errors.length) {
      return;  // none yet: the page's "-" stays
    }
    var table = document.createElement("table");
    var head = document.createElement("tr");
    ["row", "reference", "error"].forEach(function (title) { head.appendChild(cell("th", title)); });
    table.appendChild(head);
    errors.forEach(function (error) {
      var row = document.createElement("tr");
      row.appendChild(cell("td", error.row));
      row.appendChild(cell("td", error.reference));
      row.appendChild(cell("td", error.message));
      table.appendChild(row);
    });
    setChildren(element, [table]);
  }

  function render(data, live) {
    setText("status", data.status_display);
    setText("error", data.error);
    setText("progress_display", data.progress + " %");
    setText("total", data.total);
    setText("processed", data.processed);
    setText("success_count", data.success_count);
    setText("error_count", data.error_count);
    Object.keys(data.times || {}).forEach(function (name) { setText(name, data.times[name]); });
    renderDownloads(data.downloads || []);
    renderErrors(data.errors || []);
    live.dataset.status = data.status;
    live.textContent = data.finished
      ? "The job has finished: " + data.status_display + "."
      : "Following the job live: " + data.status_display + ", " + data.processed + " of " +
        (data.total || "?") + " (" + data.progress + " %).";
  }

  function start(live) {
    var url = live.dataset.progressUrl;
    var interval = parseInt(live.dataset.interval, 10) || 1000;
    var delay = interval;

    function poll() {
      fetch(url, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
        .then(function (response) {
          if (response.status === 404 || response.status === 403) {
            live.textContent = "This job can no longer be followed here.";
            return null;
          }
          if (!response.ok || (response.headers.get("Content-Type") || "").indexOf("application/json") !== 0) {
            throw new Error("HTTP " + response.status);  // e.g. signed out: the login page
          }
          return response.json();
        })
        .then(function (data) {
          if (!data) {
            return;
          }
          delay = interval;
          render(data, live);
          if (!data.finished) {
            window.setTimeout(poll, delay);
          }
        })
        .catch(function () {
          delay = Math.min(delay * 2, MAX_BACKOFF_MS);  // the server is busy or away: ask less often
          live.textContent = "Could not get the job's progress; trying again.";
          window.setTimeout(poll, delay);
        });
    }

    window.setTimeout(poll, interval);
  }

  function init() {
    var live = document.getElementById("job-live");
    if (live && live.dataset.active === "true" && live.dataset.progressUrl && window.fetch) {
      start(live);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
