"""rtcsim's library: scenarios, the player, synthetic participants and their media, the
media-server drivers, the ledger, verification, impairment, recordings and the load user.

It sits between the composition root (``rtcsim``, which it never imports) and the collector,
whose namespace helper it shares (``collector.netns``); the collector never imports it.
"""
