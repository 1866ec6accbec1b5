/**
 * The only package that knows HTTP and vertx-web: handler order, request validation, the commit-point response,
 * stream relay, and the single mapping of failures to the OpenAI error envelope.
 */
package dev.sluice.http;
