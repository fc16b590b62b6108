"""Which device family the Chaport `devices` option means for this browser."""


def device_from_user_agent(user_agent, max_touch_points=0):
    """Returns 'ios', 'android' or 'desktop' (the spec's device names; 'mobile' = ios + android)."""
    ua = user_agent or ""
    if "Android" in ua:
        return "android"
    if "iPhone" in ua or "iPad" in ua or "iPod" in ua:
        return "ios"
    # iPadOS 13+ reports itself as a Mac; only touch tells them apart.
    if "Macintosh" in ua and (max_touch_points or 0) > 1:
        return "ios"
    return "desktop"


def is_mobile(device):
    return device in ("ios", "android")
