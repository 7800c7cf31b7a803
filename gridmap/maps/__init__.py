"""Maps: the SQL behind each layer (`layers`), the Folium skeletons (`county`), styles, assets.

The rule every map follows: **text from the database or from users never passes through a
template engine as template source.** Folium's output is re-rendered by branca as Jinja, so
shapes, names and counts travel as data: GeoJSON from the layer endpoints, and a JSON block
the page's own template renders; static/map.js draws them with `textContent`. Only our own
code, translated labels and numbers reach Folium, each checked by `county.template_inert`.
"""
