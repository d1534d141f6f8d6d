"""The run report: OpenVidu's Sessions and Recordings dashboards as one offline HTML page.

``panels`` asks Elasticsearch (aggregations only) and returns plain numbers; ``render`` turns
those numbers into the page. Kept apart so tests can compare the numbers without HTML.
"""
