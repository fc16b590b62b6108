from widget.core.linkify import split_links

for text in [
    "see https://example.com/a?b=1.",
    "two: http://a.io and HTTPS://b.io/x)",
    "javascript:alert(1) and data:text/html,<b>",
    "<img src=x onerror=alert(1)> https://ok.example/<script>",
    "just https:// nothing",
    "",
    None,
    "https://x.y",
]:
    print(split_links(text))
