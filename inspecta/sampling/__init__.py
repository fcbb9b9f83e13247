"""Chain of custody from the sample to the agency: samples and tags, witnessed sampling,
electronic seals, custody events, receipt and commissions (DESIGN.md "The chain that
everything hangs on"; T/CECS 2.0.5, 2.0.6, 2.0.16, 4.3.4; Nanchang 四)."""
