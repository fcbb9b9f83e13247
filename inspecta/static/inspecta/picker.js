/* Searchable selects (inspecta/core/forms.py PickerMixin): a search box above every
   <select data-picker> hides the options whose text does not contain what is typed; a
   select with data-picker-follow="<id>" shows only the options whose data-group names a
   value chosen in that other select (chosen options always stay visible). */
(function () {
  "use strict";
  function setup(select) {
    if (select.dataset.pickerReady) return;
    select.dataset.pickerReady = "1";
    var box = document.createElement("input");
    box.type = "search";
    box.className = "form-control form-control-sm mb-1";
    box.placeholder = select.dataset.picker;
    box.setAttribute("aria-label", select.dataset.picker);
    box.setAttribute("data-picker-search", select.id || select.name);
    select.parentNode.insertBefore(box, select);
    var follow = select.dataset.pickerFollow ? document.getElementById(select.dataset.pickerFollow) : null;
    function apply() {
      var words = box.value.trim().toLowerCase();
      var groups = null;
      if (follow) {
        groups = Array.prototype.map.call(follow.selectedOptions, function (o) { return o.value; }).filter(Boolean);
      }
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) return;
        var byText = !words || option.text.toLowerCase().indexOf(words) >= 0 || option.value.toLowerCase().indexOf(words) >= 0;
        var mine = (option.dataset.group || "").split(" ");
        var byGroup = !groups || !groups.length || groups.some(function (g) { return mine.indexOf(g) >= 0; });
        option.hidden = !option.selected && !(byText && byGroup);
      });
    }
    box.addEventListener("input", apply);
    if (follow) follow.addEventListener("change", apply);
    apply();
  }
  function scan(root) {
    Array.prototype.forEach.call(root.querySelectorAll("select[data-picker]"), setup);
  }
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function (event) { scan(event.target); });
})();
