/** Usage events (one per request), their publication on the event bus and the access log. A leaf package. */
package dev.sluice.usage;
