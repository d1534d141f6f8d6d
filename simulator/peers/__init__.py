"""What a synthetic participant's media is made of, whatever the server: aiortc peer
connections and the ICE policy (``rtc``), synthetic and pre-encoded tracks, key frames on
request, layer tracking, talk spurts, the simulcast publisher. The participant that signals them
through a media server's driver is ``simulator.participant``; the drivers use these too.
"""
