// Starts the city map's request (its overview; the tiles follow from the map) while the dashboard's code is still loading: the map is the first
// screen and its answer the longest wait, so the two overlap instead of following each other. A plain
// script, run before the (deferred) application module. The dashboard takes this response when it is
// for the signed-in credential (CityState.load, apiGetEarly); otherwise it asks again itself.
;(function () {
  try {
    var key = sessionStorage.getItem('kerbside.apiKey')
    var first = location.hash.replace(/^#\/?/, '').split(/[/?]/)[0]
    if (!key || (first !== '' && first !== 'map')) return
    var response = fetch('/api/v1/map/overview', { headers: { authorization: 'Bearer ' + key, accept: 'application/json' } })
    response.catch(function () {}) // an error is read (and shown) by the dashboard when it takes the response
    window.kerbsideEarly = { path: '/api/v1/map/overview', key: key, response: response }
  } catch (e) {
    // No session storage or no fetch: the dashboard asks for the map itself.
  }
})()
