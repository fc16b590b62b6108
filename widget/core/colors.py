"""Colours the widget draws on the site's `windowColor`: which text colour reads on it, and
the operator avatars' tint, both by WCAG 2 contrast so every colour a site may pick (hex or
the spec's names) stays readable (axe's color-contrast rule asks 4.5:1 for small text)."""

WHITE = "#ffffff"
BLACK = "#000000"
AVATAR_SHADE = 0.18  # how far an avatar moves from the header colour: visible, not loud


def _channels(hex_color):
    """(r, g, b) 0-255 of '#rrggbb'; None for anything else."""
    try:
        if len(hex_color) != 7 or hex_color[0] != "#":
            return None
        return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    except Exception:
        return None


def _hex(channels):
    return "#%02x%02x%02x" % tuple(channels)


def luminance(hex_color):
    """WCAG relative luminance, 0 (black) to 1 (white)."""
    channels = _channels(hex_color) or (0, 0, 0)
    linear = []
    for value in channels:
        c = value / 255
        linear.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first, second):
    """WCAG contrast ratio of two '#rrggbb' colours, 1 to 21."""
    a, b = luminance(first), luminance(second)
    if a < b:
        a, b = b, a
    return (a + 0.05) / (b + 0.05)


def readable_text_color(hex_color):
    """Black or white, whichever reads better on `hex_color`. The better of the two is always
    at least 4.58:1 (the square root of 21), so text in it passes on any background."""
    if _channels(hex_color) is None:
        return WHITE
    if contrast_ratio(hex_color, WHITE) >= contrast_ratio(hex_color, BLACK):
        return WHITE
    return BLACK


def mix(hex_color, toward, amount):
    """`hex_color` moved `amount` (0-1) of the way to `toward`."""
    a = _channels(hex_color) or (0, 0, 0)
    b = _channels(toward) or (0, 0, 0)
    return _hex([round(a[i] + (b[i] - a[i]) * amount) for i in range(3)])


def avatar_colors(hex_color):
    """(background, text) of the operator initials in a header of `hex_color`.

    The text is the header's own text colour and the background moves away from it (darker
    under white text, lighter under black): a tint that only adds contrast, so the initials
    read at least as well as the header title (>= 4.58:1) whatever the window colour. A
    translucent white tint (what it was) made white initials unreadable on light colours."""
    text = readable_text_color(hex_color)
    if _channels(hex_color) is None:
        hex_color = BLACK
    away = BLACK if text == WHITE else WHITE
    return mix(hex_color, away, AVATAR_SHADE), text
