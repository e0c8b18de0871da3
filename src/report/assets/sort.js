(function(){"use strict";
/* Optional: click a column header to sort its table. Every table is complete and
   readable without this script. Written without the characters that would need
   escaping in XML, so the report stays well-formed. */
function key(c){var v=c.getAttribute("data-v");if(v===null||v==="")return null;var f=parseFloat(v);return isNaN(f)?null:f}
function cmp(d,i){return function(x,y){var a=x.cells[i],c=y.cells[i];if(!a||!c)return 0;
var p=key(a),q=key(c);if(p!==null||q!==null){if(p===null)return 1;if(q===null)return -1;return d*(p-q)}
return d*a.textContent.localeCompare(c.textContent)}}
function sort(th){var t=th.closest("table"),b=t.tBodies[0],d=th.getAttribute("aria-sort")==="descending"?1:-1;
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(h){h.removeAttribute("aria-sort")});
th.setAttribute("aria-sort",d===1?"ascending":"descending");
Array.prototype.slice.call(b.rows).sort(cmp(d,th.cellIndex)).forEach(function(r){b.appendChild(r)})}
Array.prototype.forEach.call(document.querySelectorAll("table.sortable thead th"),function(th){
th.tabIndex=0;th.title="Sort by this column";th.addEventListener("click",function(){sort(th)});
th.addEventListener("keydown",function(e){if(e.key==="Enter"||e.key===" "){e.preventDefault();sort(th)}})});
document.documentElement.className+=" js"})();
