from widget.core.validation import looks_like_email

for text in ["ann@shop.example", " ann@shop.example ", "ann@shop", "@shop.example", "ann@@x.io",
             "a b@x.io", "ann@.x.io", "ann@x.io.", "ann@x..io", "", None, 5, "x" * 330 + "@a.io"]:
    print(repr(text)[:20], looks_like_email(text))
