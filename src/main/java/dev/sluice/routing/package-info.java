/** Alias resolution and the attempt loop up to the commit point. Uses {@code upstream}; knows nothing of HTTP. */
package dev.sluice.routing;
