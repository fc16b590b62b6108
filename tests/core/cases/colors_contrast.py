# Every windowColor keeps the header text and the operator avatars readable (>= 4.5:1):
# the spec's named colours, Parley's default, and a sweep over the RGB cube.
from widget.core.colors import avatar_colors, contrast_ratio, mix, readable_text_color
from widget.core.config import WINDOW_COLOR_NAMES, WINDOW_COLORS, resolve_window_color

print(readable_text_color("#ffffff"), readable_text_color("#000000"), readable_text_color("#ffeb3b"))
print(readable_text_color("nonsense"), avatar_colors("nonsense"))
print(mix("#000000", "#ffffff", 0.5), mix("#3659e3", "#000000", 0))
print(contrast_ratio("#000000", "#ffffff") > 20.9, contrast_ratio("#777777", "#777777") == 1)

for name in WINDOW_COLOR_NAMES + ("#3659e3", "#ffeb3b", "#1d3557", "#777", "#fff", "#000"):
    color = resolve_window_color(name)
    background, text = avatar_colors(color)
    print(name, color, readable_text_color(color), background, text,
          contrast_ratio(color, readable_text_color(color)) >= 4.5, contrast_ratio(background, text) >= 4.5)

checked = 0
failures = []
steps = range(0, 256, 15)
for r in steps:
    for g in steps:
        for b in steps:
            color = "#%02x%02x%02x" % (r, g, b)
            background, text = avatar_colors(color)
            checked += 1
            header = contrast_ratio(color, readable_text_color(color))
            if contrast_ratio(background, text) < 4.5 or header < 4.5:
                failures.append(color)
print("checked", checked, "failures", failures)
print(len(WINDOW_COLORS) == len(WINDOW_COLOR_NAMES))
