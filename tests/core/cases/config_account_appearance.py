from widget.core.config import merge_account_appearance

page = {"windowColor": None, "teamName": "From the page", "onlineWelcome": None, "offlineWelcome": None}
account = {"windowColor": "#0A0", "teamName": "From the inbox", "onlineWelcome": "Hi there",
           "offlineWelcome": 42}
print(merge_account_appearance(page, account))
print(page["windowColor"], page["teamName"], page["onlineWelcome"], page["offlineWelcome"])
print(merge_account_appearance(page, None), merge_account_appearance(page, "x"))
bad = {"windowColor": None, "teamName": None, "onlineWelcome": None, "offlineWelcome": None}
junk = {"windowColor": "red-ish", "teamName": "  ", "onlineWelcome": "x" * 1001}
print(merge_account_appearance(bad, junk))
print(merge_account_appearance(bad, {"windowColor": "red"}), bad["windowColor"])
