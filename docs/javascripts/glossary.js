/* Glossary links: on every page, the first use of each glossary term links to its entry.
 *
 * The terms come from docs/includes/abbreviations.md, which pymdownx.snippets appends to every page, so
 * Python-Markdown wraps each use in <abbr title="Term: definition"> (the hover definition). Here the
 * first <abbr> of each term in the page's running text becomes a link to glossary/#term, the anchor
 * being the term before the colon in lower case with hyphens (tests/test_glossary.py checks that every
 * such anchor exists). Without JavaScript the hover definitions still work.
 */
(function (global) {
  "use strict";

  var SKIP = "a, h1, h2, h3, h4, h5, h6, summary, .admonition-title, code, pre";

  function anchor(term) {
    return term.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  }

  function glossaryUrl() {
    var config = document.getElementById("__config");
    var base = ".";
    try {
      base = JSON.parse(config.textContent).base || ".";
    } catch (error) {
      base = ".";
    }
    return new URL(base.replace(/\/?$/, "/") + "glossary/", global.location.href);
  }

  function linkFirstUses() {
    var content = document.querySelector(".md-content .md-typeset");
    if (!content) return;
    var glossary = glossaryUrl();
    if (global.location.pathname === glossary.pathname) return; // the glossary itself needs no links to itself
    var seen = {};
    var uses = content.querySelectorAll("abbr[title]");
    for (var i = 0; i < uses.length; i++) {
      var abbr = uses[i];
      var title = abbr.getAttribute("title");
      var colon = title.indexOf(": ");
      if (colon < 1 || abbr.closest(SKIP)) continue;
      var id = anchor(title.slice(0, colon));
      if (seen[id]) continue;
      seen[id] = true;
      var link = document.createElement("a");
      link.className = "gtt-glossary-link";
      link.href = glossary.pathname + "#" + id;
      abbr.parentNode.insertBefore(link, abbr);
      link.appendChild(abbr);
    }
  }

  if (global.document$ && typeof global.document$.subscribe === "function") {
    global.document$.subscribe(linkFirstUses); // Material's instant navigation swaps pages without reloading scripts
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", linkFirstUses);
  } else {
    linkFirstUses();
  }
})(window);
